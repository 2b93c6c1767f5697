// `dyshard prometheus-config` as users run it: every variant through Debian's promtool 2.42, the
// Consul variant (which that promtool refuses: its Prometheus has no consul_sd_configs) checked
// as far as this machine allows, the committed deploy/ files kept equal to the command's output,
// and two real Prometheus servers sharded by the generated hashmod rules over three Pushgateways
// behind dyshard: each Pushgateway scraped by exactly one, a pushed group found once across both.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { hashmod } from "../../src/prometheus/hashmod.js";
import type { App } from "../../src/runtime/single-process.js";
import { requireBinary } from "../support/binaries.js";
import { CLI, startDyshard } from "../support/dyshard.js";
import { waitFor } from "../support/ports.js";
import { Prometheus } from "../support/prometheus.js";
import { push } from "../support/push.js";
import { startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), "dyshard-prometheus-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `dyshard prometheus-config ARGS`, run from the repository's root. */
function generate(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, "prometheus-config", ...args], { cwd: ROOT, encoding: "utf8", timeout: 20_000 });
  assert.equal(r.status, 0, `prometheus-config ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** promtool check config on `text`: its exit code and what it said. */
function promtool(name: string, text: string): { ok: boolean; said: string } {
  const file = path.join(dir, `${name}.yml`);
  writeFileSync(file, text);
  const r = spawnSync(requireBinary("promtool"), ["check", "config", file], { encoding: "utf8", timeout: 20_000 });
  return { ok: r.status === 0, said: `${r.stdout}${r.stderr}`.replaceAll(file, `${name}.yml`).trim() };
}

type Job = Record<string, unknown> & { job_name: string };

/** The same config with each consul_sd_configs swapped for file_sd_configs reading `files[job]`. */
function consulAsFileSd(text: string, files: Record<string, string>): string {
  const doc = parse(text) as { scrape_configs: Job[] };
  for (const job of doc.scrape_configs) {
    if (!job.consul_sd_configs) continue;
    delete job.consul_sd_configs;
    job.file_sd_configs = [{ files: [files[job.job_name]] }];
  }
  return stringify(doc);
}

const STATIC = ["--upstream", "http://127.0.0.1:9101", "--upstream", "http://127.0.0.1:9102/pg", "--upstream", "https://pg-3.example"];
const SHARDS = ["--prometheus-shards", "2", "--prometheus-index", "1"];
const REMOTE = ["--remote-write", "http://127.0.0.1:9201/api/v1/write"];

describe("prometheus-config through promtool 2.42", () => {
  const consulConfig = path.join(dir, "dyshard-consul.yaml");
  before(() =>
    writeFileSync(
      consulConfig,
      "discovery:\n  type: consul\n  consul:\n    address: http://127.0.0.1:8500\n    service: pushgateway\n    tag: blue\n    datacenter: dc1\n    token: t0k\n",
    ),
  );

  it("accepts every http and static variant", () => {
    const variants: [string, string[]][] = [
      ["http", ["--sd", "http"]],
      ["http-remote-write", ["--sd", "http", ...REMOTE]],
      ["http-shards", ["--sd", "http", ...SHARDS]],
      ["http-shards-remote-write", ["--sd", "http", ...SHARDS, ...REMOTE, "--scrape-interval", "1s", "--refresh-interval", "1s"]],
      ["http-name", ["--sd", "http", "--prometheus-name", "prom-a", "--sd-url", "http://dyshard-1:9091/-/dyshard/sd"]],
      ["http-name-remote-write", ["--sd", "http", "--prometheus-name", "prom-a", ...REMOTE, "--dyshard-url", "https://d2.example/x"]],
      ["static", ["--sd", "static", ...STATIC]],
      ["static-shards-remote-write", ["--sd", "static", ...STATIC, ...SHARDS, ...REMOTE]],
    ];
    const verdicts = variants.map(([name, args]) => ({ name, ...promtool(name, generate(args)) }));
    for (const v of verdicts) process.stdout.write(`# promtool ${v.name}: ${v.said.split("\n").pop()}\n`);
    assert.deepEqual(
      verdicts.filter((v) => !v.ok).map((v) => `${v.name}: ${v.said}`),
      [],
    );
  });

  it("refuses consul_sd_configs (Debian's Prometheus has no Consul discovery), and nothing else in the Consul variants", () => {
    for (const [name, args] of [
      ["consul", ["--config", consulConfig, "--sd", "consul"]],
      ["consul-shards-remote-write", ["--config", consulConfig, "--sd", "consul", ...SHARDS, ...REMOTE]],
    ] as const) {
      const text = generate([...args]);
      const refused = promtool(name, text);
      process.stdout.write(`# promtool ${name}: ${refused.said.replace(/\s+/g, " ")}\n`);
      assert.equal(refused.ok, false, "Debian's promtool would have to refuse consul_sd_configs; if it passes, this test is out of date");
      const complaints = refused.said.split("\n").filter((l) => /^\s*line \d+:/.test(l));
      assert.equal(complaints.length, 2, "one per job (pushgateway, dyshard)");
      for (const c of complaints) assert.match(c, /field consul_sd_configs not found in type config\.ScrapeConfig/);
      // The rest (the relabel rules, their regexes, the shard rules, remote_write) is promtool's to judge:
      const swapped = promtool(`${name}-as-file-sd`, consulAsFileSd(text, { pushgateway: "pg.json", dyshard: "dyshard.json" }));
      process.stdout.write(`# promtool ${name}, consul_sd_configs swapped for file_sd_configs: ${swapped.said.split("\n").pop()}\n`);
      assert.ok(swapped.ok, swapped.said);
    }
  });

  it("the Consul variant's relabelling, applied by a real Prometheus 2.42 to targets labelled as consul_sd labels them", async () => {
    // What upstream consul_sd_configs gives each instance (docs/facts/prometheus.md: critical ones
    // included, __meta_consul_health, Meta as __meta_consul_service_metadata_<k>), served by file_sd.
    const meta = "__meta_consul_service_metadata_dyshard_url";
    const instances = [
      { targets: ["127.0.0.1:9101"], labels: { __meta_consul_health: "passing" } },
      { targets: ["127.0.0.1:9102"], labels: { __meta_consul_health: "critical" } },
      { targets: ["127.0.0.1:9103"], labels: { __meta_consul_health: "passing", [meta]: "http://127.0.0.2:9191/pg" } },
      { targets: ["127.0.0.1:9104"], labels: { __meta_consul_health: "passing", [meta]: "https://127.0.0.3" } },
      { targets: ["127.0.0.1:9105"], labels: { __meta_consul_health: "warning", [meta]: "http://127.0.0.4:9191" } },
      { targets: ["127.0.0.1:9106"], labels: { __meta_consul_health: "passing", [meta]: "http://[::1]" } },
    ];
    const pgFile = path.join(dir, "consul-pg.json");
    const dyFile = path.join(dir, "consul-dyshard.json");
    writeFileSync(pgFile, JSON.stringify(instances));
    writeFileSync(dyFile, JSON.stringify([{ targets: ["127.0.0.1:9109"], labels: { __meta_consul_health: "critical" } }]));
    const text = consulAsFileSd(generate(["--config", consulConfig, "--sd", "consul", "--scrape-interval", "1m"]), {
      pushgateway: pgFile,
      dyshard: dyFile,
    });
    const prom = await Prometheus.start(text);
    try {
      let scraped: string[] = [];
      await waitFor(
        "the file_sd targets in Prometheus",
        async () => {
          const targets = await prom.activeTargets();
          scraped = targets
            .filter((t) => t.scrapePool === "pushgateway")
            .map((t) => t.scrapeUrl)
            .sort();
          return targets.some((t) => t.scrapePool === "dyshard") && scraped.length > 0;
        },
        20_000,
        200,
      );
      process.stdout.write(`# consul relabelling in Prometheus 2.42: ${instances.length} instances → scraped ${scraped.join(", ")}\n`);
      assert.deepEqual(scraped, [
        "http://127.0.0.1:9101/metrics",
        "http://127.0.0.2:9191/pg/metrics",
        "http://[::1]:80/metrics",
        "https://127.0.0.3:443/metrics",
      ]);
      const dyshard = (await prom.activeTargets("dyshard")).map((t) => t.scrapeUrl);
      assert.deepEqual(dyshard, ["http://127.0.0.1:9109/metrics"], "the dyshard job keeps a critical dyshard");
    } finally {
      await prom.remove();
    }
  });

  it("the committed deploy/ files are the command's output for the command line they name, and promtool takes deploy/prometheus.yml", () => {
    for (const file of ["deploy/prometheus.yml", "deploy/prometheus-consul.yml"]) {
      const text = readFileSync(path.join(ROOT, file), "utf8");
      const made = text.match(/^# Made by: dyshard prometheus-config (.*)$/m);
      assert.ok(made, `${file} names the command that made it`);
      assert.equal(text, generate(made[1]!.split(" ")), `${file} is out of date: run \`dyshard prometheus-config ${made[1]} > ${file}\``);
    }
    const checked = promtool("deploy-prometheus", readFileSync(path.join(ROOT, "deploy/prometheus.yml"), "utf8"));
    assert.ok(checked.ok, checked.said);
  });
});

describe("two Prometheus servers sharded by the generated hashmod rules", () => {
  let pgs: Pushgateway[] = [];
  let app: App | undefined;
  let proms: Prometheus[] = [];
  before(async () => {
    pgs = await startPushgateways(3);
    app = await startDyshard(pgs.map((p) => p.url));
  });
  after(async () => {
    await Promise.all(proms.map((p) => p.remove()));
    await app?.stop();
    await stopAll(pgs);
  });

  it("scrapes every Pushgateway on exactly one server, and a pushed group is one series across both", async () => {
    const flags = ["--sd", "http", "--sd-url", `${app!.url}/-/dyshard/sd`, "--scrape-interval", "1s", "--refresh-interval", "1s"];
    proms = await Promise.all(
      [0, 1].map((i) => Prometheus.start(generate([...flags, "--prometheus-shards", "2", "--prometheus-index", String(i)]))),
    );
    const every = pgs.map((p) => new URL(p.url).host).sort();
    const active = (pool: string) =>
      Promise.all(proms.map(async (p) => (await p.activeTargets(pool)).map((t) => t.labels.instance!).sort()));
    // Bound: refresh 1 s + the discovery manager's 5 s + start-up.
    await waitFor("all three Pushgateways active", async () => (await active("pushgateway")).flat().length >= 3, 30_000, 200);
    const split = await active("pushgateway");
    process.stdout.write(
      `# split: server 0 scrapes [${split[0]!.join(", ")}], server 1 scrapes [${split[1]!.join(", ")}] (hashmod of __address__, modulus 2)\n`,
    );
    assert.deepEqual(split.flat().sort(), every, "each Pushgateway active in exactly one server");
    split.forEach((targets, i) => targets.forEach((a) => assert.equal(hashmod([a], 2), i, `${a} on server ${i}`)));
    const dyshards = await active("dyshard");
    assert.deepEqual(dyshards.flat(), [new URL(app!.url).host], "dyshard's own job is sharded too: one server scrapes it");

    const job = "prom_config_shards";
    assert.equal((await push(app!.url, `/metrics/job/${job}/batch/nightly`, "prom_config_last_success 1234.5\n")).status, 200);
    const found = async () => (await Promise.all(proms.map((p) => p.query(`prom_config_last_success`)))).map((r) => r.length);
    // Bound: two scrape intervals after the push.
    await waitFor("the pushed series in Prometheus", async () => (await found()).reduce((a, b) => a + b) > 0, 10_000, 200);
    await new Promise((r) => setTimeout(r, 2500)); // two more scrapes: a second copy, if any, would show by now
    const answers = await Promise.all(proms.map((p) => p.query(`prom_config_last_success`)));
    process.stdout.write(
      `# query prom_config_last_success: server 0 has ${answers[0]!.length} series, server 1 has ${answers[1]!.length}\n`,
    );
    const series = answers.flat();
    assert.equal(series.length, 1, "exactly one series across the two servers");
    assert.equal(series[0]!.value, 1234.5);
    assert.deepEqual(series[0]!.metric, { __name__: "prom_config_last_success", job, batch: "nightly" }, "the pushed labels, no instance");
  });
});

describe("prometheus-config and secrets", () => {
  it("writes the Consul token where Prometheus needs it, never into the file's Made by line", () => {
    for (const form of [["--consul-token", "s3cret"], ["--consul-token=s3cret"]]) {
      const text = generate(["--sd", "consul", "--consul-address", "http://consul:8500", ...form]);
      const made = text.match(/^# Made by: .*$/m)?.[0] ?? "";
      assert.ok(!made.includes("s3cret") && made.includes("REDACTED"), made);
      assert.match(text, /token: s3cret/);
    }
  });
});
