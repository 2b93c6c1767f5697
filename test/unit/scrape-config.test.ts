// The prometheus.yml of `dyshard prometheus-config`, parsed back: the structure of every variant
// (http_sd, static, Consul; hashmod shards, allocation by name; remote_write), and the flag
// combinations refused with a message that says why. promtool and real Prometheus servers check
// the same output in test/integration/prometheus-config.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { loadConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import type { Member } from "../../src/membership/member.js";
import { hashmod } from "../../src/prometheus/hashmod.js";
import { scrapeConfigOptions, type PrometheusConfigFlags } from "../../src/prometheus/scrape-config-options.js";
import { prometheusYaml } from "../../src/prometheus/scrape-config.js";
import { targetGroups } from "../../src/prometheus/sd-targets.js";

interface Job {
  job_name: string;
  honor_labels?: boolean;
  http_sd_configs?: { url: string; refresh_interval: string }[];
  static_configs?: { targets: string[]; labels?: Record<string, string> }[];
  consul_sd_configs?: Record<string, unknown>[];
  relabel_configs?: Record<string, unknown>[];
}
interface PromConfig {
  global: { scrape_interval: string };
  scrape_configs: Job[];
  remote_write?: { url: string }[];
}

const UPSTREAMS = ["http://10.0.0.1:9091", "http://pg-b:9091/pushgateway", "https://pg-c.example"];

function config(flags: Record<string, unknown> = {}): Config {
  return loadConfig({ flags: { upstream: UPSTREAMS, ...flags } });
}

/** The YAML text for these flags, or the refusal. */
function generate(flags: PrometheusConfigFlags, cfg = config()): string {
  const options = scrapeConfigOptions(flags, cfg, "dyshard prometheus-config (test)");
  if (typeof options === "string") throw new Error(options);
  return prometheusYaml(options);
}

function jobs(flags: PrometheusConfigFlags, cfg?: Config): Record<string, Job> & { doc: PromConfig } {
  const doc = parse(generate(flags, cfg)) as PromConfig;
  assert.deepEqual(
    doc.scrape_configs.map((j) => j.job_name),
    ["pushgateway", "dyshard"],
  );
  return Object.assign(Object.fromEntries(doc.scrape_configs.map((j) => [j.job_name, j])), { doc });
}

const shardRules = (index: number, of: number) => [
  { source_labels: ["__address__"], action: "hashmod", modulus: of, target_label: "__tmp_hash" },
  { source_labels: ["__tmp_hash"], action: "keep", regex: String(index) },
];

function member(slot: number, url: string): Member {
  return { slot, url, healthy: true, retired: false, discoveryHealthy: true, checksHealthy: true, since: 0, reason: "" };
}

describe("prometheus-config --sd http", () => {
  it("scrapes dyshard's /-/dyshard/sd (default URL, Prometheus's 60s refresh) with honor_labels: true, and dyshard itself", () => {
    const { pushgateway, dyshard, doc } = jobs({ sd: "http" });
    assert.deepEqual(doc.global, { scrape_interval: "15s" });
    assert.equal(pushgateway!.honor_labels, true);
    assert.deepEqual(pushgateway!.http_sd_configs, [{ url: "http://127.0.0.1:9091/-/dyshard/sd", refresh_interval: "60s" }]);
    assert.equal(pushgateway!.relabel_configs, undefined, "no shard rules unless asked");
    assert.deepEqual(dyshard, { job_name: "dyshard", static_configs: [{ targets: ["127.0.0.1:9091"] }] });
    assert.equal(doc.remote_write, undefined);
  });

  it("says in a comment why honor_labels is true", () => {
    const text = generate({ sd: "http" });
    const above = text.slice(0, text.search(/^ +honor_labels: true$/m));
    assert.match(above, /# honor_labels: true keeps the pushed job and instance labels \(false renames them exported_job/);
    assert.match(text, /^# Made by: dyshard prometheus-config \(test\)$/m);
  });

  it("takes --sd-url, --refresh-interval and --scrape-interval; dyshard's own job follows the --sd-url host unless --dyshard-url", () => {
    const { pushgateway, dyshard, doc } = jobs({
      sd: "http",
      sdUrl: "https://dyshard.example/base/-/dyshard/sd",
      refreshInterval: "5s",
      scrapeInterval: "1m30s",
    });
    assert.deepEqual(pushgateway!.http_sd_configs, [{ url: "https://dyshard.example/base/-/dyshard/sd", refresh_interval: "5s" }]);
    assert.equal(doc.global.scrape_interval, "1m30s");
    assert.deepEqual(dyshard!.static_configs, [
      { targets: ["dyshard.example:443"], labels: { __metrics_path__: "/base/metrics", __scheme__: "https" } },
    ]);
    const two = jobs({ sd: "http", dyshardUrl: ["http://dyshard-1:9091", "http://dyshard-2:9091/"] });
    assert.deepEqual(two.dyshard!.static_configs, [{ targets: ["dyshard-1:9091"] }, { targets: ["dyshard-2:9091"] }]);
  });

  it("--prometheus-shards K --prometheus-index I: the seed-002 hashmod/keep rules on both jobs", () => {
    const { pushgateway, dyshard } = jobs({ sd: "http", prometheusShards: "3", prometheusIndex: "2" });
    assert.deepEqual(pushgateway!.relabel_configs, shardRules(2, 3));
    assert.deepEqual(dyshard!.relabel_configs, shardRules(2, 3));
    assert.deepEqual(pushgateway!.http_sd_configs![0]!.url, "http://127.0.0.1:9091/-/dyshard/sd", "the whole list; the rules split it");
  });

  it("--prometheus-name NAME: the allocation mode URL (?prometheus=NAME, kept beside a query the URL has), no hashmod rules", () => {
    const { pushgateway } = jobs({ sd: "http", prometheusName: "prom-b" });
    assert.equal(pushgateway!.http_sd_configs![0]!.url, "http://127.0.0.1:9091/-/dyshard/sd?prometheus=prom-b");
    assert.equal(pushgateway!.relabel_configs, undefined);
    const healthy = jobs({ sd: "http", prometheusName: "prom-b", sdUrl: "http://d:9091/-/dyshard/sd?healthy=1" });
    assert.equal(healthy.pushgateway!.http_sd_configs![0]!.url, "http://d:9091/-/dyshard/sd?healthy=1&prometheus=prom-b");
    const named = config({ prometheus: ["prom-a=http://p-a:9090", "prom-b=http://p-b:9090"] });
    assert.ok(jobs({ sd: "http", prometheusName: "prom-a" }, named).pushgateway, "a name the config knows");
  });

  it("--remote-write URL: remote_write with a comment, and sharded files without one say so", () => {
    const { doc } = jobs({ sd: "http", remoteWrite: "http://store:9201/write", prometheusShards: "2", prometheusIndex: "0" });
    assert.deepEqual(doc.remote_write, [{ url: "http://store:9201/write" }]);
    const text = generate({ sd: "http", remoteWrite: "http://store:9201/write", prometheusShards: "2", prometheusIndex: "0" });
    assert.match(
      text,
      /# Each server holds only its share of the series: seed 002 runs sharded servers in remote-write mode.*\nremote_write:/,
    );
    assert.match(
      generate({ sd: "http", prometheusShards: "2", prometheusIndex: "0" }),
      /^# No remote_write: this server holds only its share/m,
    );
    assert.doesNotMatch(generate({ sd: "http" }), /No remote_write/);
  });
});

describe("prometheus-config --sd static", () => {
  it("lists the upstreams as /-/dyshard/sd does (targetGroup: address, path prefix, https, slot), retired ones left out", () => {
    const cfg = config({ upstream: undefined });
    cfg.upstreams = [...config().upstreams, { url: "http://gone:9091", slot: 3, retired: true }];
    const { pushgateway, dyshard } = jobs({ sd: "static" }, cfg);
    const sd = targetGroups(UPSTREAMS.map((u, i) => member(i, u)));
    assert.deepEqual(
      pushgateway!.static_configs,
      sd.map((g) => ({
        targets: g.targets,
        labels: Object.fromEntries(Object.entries(g.labels).filter(([k]) => k !== "__meta_dyshard_healthy")),
      })),
    );
    assert.equal(pushgateway!.static_configs![2]!.labels!.__scheme__, "https");
    assert.equal(pushgateway!.static_configs![1]!.labels!.__metrics_path__, "/pushgateway/metrics");
    assert.equal(pushgateway!.honor_labels, true);
    assert.deepEqual(dyshard!.static_configs, [{ targets: ["127.0.0.1:9091"] }]);
  });

  it("with shards, the rules keep on each server what /-/dyshard/sd?shard=I&of=K lists (hashmod of the same addresses)", () => {
    for (let i = 0; i < 2; i++) {
      const { pushgateway } = jobs({ sd: "static", prometheusShards: "2", prometheusIndex: String(i) });
      assert.deepEqual(pushgateway!.relabel_configs, shardRules(i, 2));
      const kept = pushgateway!.static_configs!.map((g) => g.targets[0]!).filter((a) => String(hashmod([a], 2)) === String(i));
      const listed = targetGroups(
        UPSTREAMS.map((u, s) => member(s, u)),
        { shard: { index: i, of: 2 } },
      ).map((g) => g.targets[0]);
      assert.deepEqual(kept, listed);
    }
  });
});

describe("prometheus-config --sd consul", () => {
  const consul = {
    discovery: "consul",
    consulAddress: "https://consul.example:8501",
    consulService: "pgw",
    consulTag: "blue",
    consulDatacenter: "dc2",
    consulToken: "t0k",
  };
  // The fields upstream Prometheus documents for <consul_sd_config> (docs/configuration/configuration.md).
  const DOCUMENTED = new Set(
    "server path_prefix token datacenter namespace partition scheme username password services tags node_meta tag_separator allow_stale refresh_interval basic_auth authorization oauth2 proxy_url no_proxy proxy_from_environment proxy_connect_header follow_redirects enable_http2 tls_config".split(
      " ",
    ),
  );

  it("discovers the config's service (address, scheme, token, datacenter, tag) with fields upstream Prometheus documents", () => {
    const { pushgateway } = jobs({ sd: "consul" }, config(consul));
    assert.deepEqual(pushgateway!.consul_sd_configs, [
      { server: "consul.example:8501", scheme: "https", token: "t0k", datacenter: "dc2", services: ["pgw"], tags: ["blue"] },
    ]);
    for (const k of Object.keys(pushgateway!.consul_sd_configs![0]!)) assert.ok(DOCUMENTED.has(k), k);
    assert.equal(pushgateway!.honor_labels, true);
    const plain = jobs({ sd: "consul" }).pushgateway!.consul_sd_configs;
    assert.deepEqual(plain, [{ server: "127.0.0.1:8500", services: ["pushgateway"] }], "the defaults, nothing empty written");
    const prefixed = jobs({ sd: "consul" }, config({ consulAddress: "http://gw:80/consul" })).pushgateway!.consul_sd_configs;
    assert.deepEqual(prefixed, [{ server: "gw", path_prefix: "/consul", services: ["pushgateway"] }]);
  });

  it("keeps passing instances, honours Meta.dyshard_url for scheme, address and path, and shards on the address it made", () => {
    const { pushgateway } = jobs({ sd: "consul", prometheusShards: "2", prometheusIndex: "1" }, config(consul));
    const rules = pushgateway!.relabel_configs!;
    assert.deepEqual(rules[0], { source_labels: ["__meta_consul_health"], regex: "passing", action: "keep" });
    const fromMeta = rules.filter((r) => (r.source_labels as string[])[0] === "__meta_consul_service_metadata_dyshard_url");
    assert.deepEqual(
      fromMeta.map((r) => r.target_label),
      ["__scheme__", "__address__", "__address__", "__address__", "__metrics_path__"],
    );
    assert.deepEqual(rules.slice(-2), shardRules(1, 2), "hashmod last, on the final __address__");
  });

  it("scrapes the dyshards registered as the service dyshard, passing or not, unless --dyshard-url names them", () => {
    const { dyshard } = jobs({ sd: "consul" }, config(consul));
    assert.deepEqual(dyshard!.consul_sd_configs, [
      { server: "consul.example:8501", scheme: "https", token: "t0k", datacenter: "dc2", services: ["dyshard"] },
    ]);
    assert.equal(dyshard!.relabel_configs, undefined, "no health filter: a critical dyshard is the one to look at");
    const named = jobs({ sd: "consul", dyshardUrl: ["http://d1:9091"] }, config(consul)).dyshard!;
    assert.deepEqual(named, { job_name: "dyshard", static_configs: [{ targets: ["d1:9091"] }] });
  });
});

describe("prometheus-config refuses", () => {
  const cases: [string, PrometheusConfigFlags, RegExp, Config?][] = [
    ["no --sd", {}, /give --sd http, consul or static/],
    ["an unknown --sd", { sd: "file" }, /--sd must be http, consul or static, not "file"/],
    ["--prometheus-shards alone", { sd: "http", prometheusShards: "2" }, /give both --prometheus-shards K and --prometheus-index I/],
    ["--prometheus-index alone", { sd: "http", prometheusIndex: "0" }, /give both/],
    ["an index past K", { sd: "http", prometheusShards: "2", prometheusIndex: "2" }, /from 0 to 1 for --prometheus-shards 2, not "2"/],
    ["a negative index", { sd: "http", prometheusShards: "2", prometheusIndex: "-1" }, /--prometheus-index must be/],
    ["K = 0", { sd: "http", prometheusShards: "0", prometheusIndex: "0" }, /--prometheus-shards must be the number of Prometheus servers/],
    ["K not a number", { sd: "http", prometheusShards: "two", prometheusIndex: "0" }, /--prometheus-shards must be/],
    ["shards and a name", { sd: "http", prometheusShards: "2", prometheusIndex: "0", prometheusName: "a" }, /give one or the other/],
    ["a name with --sd static", { sd: "static", prometheusName: "a" }, /--prometheus-name needs --sd http/],
    ["a name with --sd consul", { sd: "consul", prometheusName: "a" }, /--prometheus-name needs --sd http/],
    ["a name --prometheus could not take", { sd: "http", prometheusName: "a b" }, /--prometheus-name takes letters/],
    [
      "a name the config does not know",
      { sd: "http", prometheusName: "c" },
      /no Prometheus server named "c" in the config \(prometheus:\); known: a, b/,
      config({ prometheus: ["a=http://a:9090", "b=http://b:9090"] }),
    ],
    [
      "--sd-url without --sd http",
      { sd: "consul", sdUrl: "http://d/-/dyshard/sd" },
      /--sd-url is dyshard's http_sd URL: it goes with --sd http/,
    ],
    ["--refresh-interval without --sd http", { sd: "static", refreshInterval: "5s" }, /--refresh-interval is http_sd's/],
    ["a --sd-url that is no URL", { sd: "http", sdUrl: "dyshard:9091" }, /--sd-url must be an http or https URL/],
    ["a --remote-write that is not http", { sd: "http", remoteWrite: "ftp://x/" }, /--remote-write must be an http or https URL/],
    ["a --dyshard-url that is no URL", { sd: "http", dyshardUrl: ["d1"] }, /--dyshard-url must be an http or https URL/],
    ["a zero scrape interval", { sd: "http", scrapeInterval: "0s" }, /--scrape-interval must be a Prometheus duration .* not "0s"/],
    ["a fractional duration", { sd: "http", refreshInterval: "1.5s" }, /--refresh-interval must be a Prometheus duration/],
    [
      "--sd static without upstreams",
      { sd: "static" },
      /--sd static lists the upstreams: give at least one --upstream URL/,
      loadConfig({}),
    ],
  ];
  for (const [what, flags, message, cfg] of cases)
    it(what, () => {
      assert.throws(() => generate(flags, cfg), message);
    });
});
