// No Docker engine runs here: check that docker-compose.yml, the Dockerfile, config.example.yaml
// and deploy/prometheus.yml (and its Consul variant) agree with each other, as `docker compose up`
// would need. That the deploy files are the output of `dyshard prometheus-config`, and pass
// promtool, is test/integration/prometheus-config.test.ts's.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { loadConfig } from "../../src/config/load.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const read = (f: string) => readFileSync(join(root, f), "utf8");

interface Service {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: string[];
}
interface PromJob {
  job_name: string;
  honor_labels?: boolean;
  http_sd_configs?: { url: string }[];
  static_configs?: { targets: string[] }[];
  consul_sd_configs?: { server: string; services: string[] }[];
}
const compose = parse(read("docker-compose.yml")) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services;
const dockerfile = read("Dockerfile");
const containerPort = (s: Service) => {
  const listen = s.command?.find((a) => a.startsWith("--web.listen-address="));
  return listen ? Number(listen.split(":").pop()) : 9091;
};

describe("docker-compose.yml", () => {
  const dyshards = Object.entries(services).filter(([, s]) => s.build !== undefined);

  it("has a Consul, three Pushgateways, two dyshards built here, and Prometheus", () => {
    assert.match(services.consul?.image ?? "", /^hashicorp\/consul:/);
    assert.equal(Object.values(services).filter((s) => /^prom\/pushgateway:/.test(s.image ?? "")).length, 3);
    assert.equal(dyshards.length, 2);
    assert.match(services.prometheus?.image ?? "", /^prom\/prometheus:/);
  });

  it("builds the dyshards from this repository's Dockerfile, whose COPY sources exist", () => {
    for (const [, s] of dyshards) {
      const ctx = typeof s.build === "string" ? s.build : s.build!.context;
      const file = typeof s.build === "string" ? "Dockerfile" : (s.build!.dockerfile ?? "Dockerfile");
      assert.ok(existsSync(join(root, ctx, file)), `${ctx}/${file}`);
    }
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1]!.split(" ")) assert.ok(existsSync(join(root, src)), `Dockerfile copies ${src}, which is missing`);
    }
    assert.match(dockerfile, /^FROM node:20/m);
  });

  it("mounts every host path that exists and declares every named volume", () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const [src] = v.split(":");
        if (src!.startsWith(".") || src!.startsWith("/"))
          assert.ok(existsSync(join(root, src!)), `${name} mounts ${src}, which is missing`);
        else assert.ok(compose.volumes && src! in compose.volumes, `${name} uses volume ${src} that is not declared`);
      }
      for (const d of s.depends_on ?? []) assert.ok(services[d], `${name} depends on unknown service ${d}`);
    }
  });

  it("runs the dyshards on config.example.yaml, whose upstreams, Consul and port are the compose services", () => {
    const config = loadConfig({ file: join(root, "config.example.yaml") });
    for (const [name, s] of dyshards) {
      const configArg = s.command![s.command!.indexOf("--config") + 1]!;
      const mount = s.volumes!.find((v) => v.split(":")[1] === configArg);
      assert.ok(mount?.startsWith("./config.example.yaml:"), `${name} must mount config.example.yaml at ${configArg}`);
      assert.ok(
        s.ports!.some((p) => p.endsWith(`:${config.listen.port}`)),
        `${name} publishes the listen port ${config.listen.port}`,
      );
      const advertise = s.environment?.DYSHARD_CONSUL_ADVERTISE ?? "";
      assert.equal(advertise, `${name}:${config.listen.port}`, `${name} advertises itself by its service name`);
    }
    assert.equal(
      new Set(dyshards.map(([, s]) => s.environment?.DYSHARD_CONSUL_ADVERTISE)).size,
      2,
      "each dyshard registers under its own ID",
    );
    assert.equal(config.discovery.type, "consul");
    assert.ok(config.discovery.consul.register);
    for (const u of config.upstreams) {
      const url = new URL(u.url);
      const s = services[url.hostname];
      assert.ok(s && /pushgateway/.test(s.image ?? ""), `upstream ${u.url} is not a Pushgateway service`);
      assert.equal(Number(url.port), containerPort(s));
    }
    const consulUrl = new URL(config.discovery.consul.address);
    assert.ok(services[consulUrl.hostname], `Consul address ${consulUrl} is not a service`);
    assert.equal(consulUrl.port, "8500");
    assert.match(dockerfile, new RegExp(`^EXPOSE ${config.listen.port}$`, "m"));
    assert.match(dockerfile, /^CMD \["serve", "--config", "\/etc\/dyshard\/config.yaml"\]$/m);
  });

  it("has Prometheus discover the Pushgateways through a dyshard's /-/dyshard/sd, honouring pushed labels, and scrape both dyshards", () => {
    const mount = services.prometheus!.volumes!.find((v) => v.includes("prometheus.yml"))!;
    const [src, target] = mount.split(":");
    assert.ok(services.prometheus!.command!.includes(`--config.file=${target}`));
    const prom = parse(readFileSync(join(root, src!), "utf8")) as { scrape_configs: PromJob[] };
    const config = loadConfig({ file: join(root, "config.example.yaml") });
    const pg = prom.scrape_configs.find((j) => j.job_name === "pushgateway")!;
    assert.equal(pg.honor_labels, true);
    const sdUrl = new URL(pg.http_sd_configs![0]!.url);
    const dyshardNames = dyshards.map(([name]) => name);
    assert.ok(dyshardNames.includes(sdUrl.hostname), `http_sd asks ${sdUrl.hostname}, not a dyshard service`);
    assert.equal(Number(sdUrl.port), config.listen.port);
    assert.equal(sdUrl.pathname, "/-/dyshard/sd");
    const ds = prom.scrape_configs.find((j) => j.job_name === "dyshard")!;
    assert.deepEqual(
      ds.static_configs!.flatMap((c) => c.targets),
      dyshardNames.map((n) => `${n}:${config.listen.port}`),
    );
    assert.ok(services.prometheus!.depends_on!.includes(sdUrl.hostname));
  });

  it("names the compose service prometheus as the Prometheus server of config.example.yaml", () => {
    const config = loadConfig({ file: join(root, "config.example.yaml") });
    assert.deepEqual(
      config.prometheus.map((p) => [p.name, p.url]),
      [["prometheus", "http://prometheus:9090"]],
    );
    assert.ok(services.prometheus);
    assert.ok(
      services.prometheus.ports!.some((p) => p.endsWith(":9090")),
      "Prometheus listens on 9090 in its container",
    );
  });

  it("keeps the Consul variant, deploy/prometheus-consul.yml (named in a comment), on the compose Consul and the config's service", () => {
    assert.match(read("docker-compose.yml"), /^#.*deploy\/prometheus-consul\.yml/m);
    const prom = parse(read("deploy/prometheus-consul.yml")) as { scrape_configs: PromJob[] };
    const config = loadConfig({ file: join(root, "config.example.yaml") });
    const pg = prom.scrape_configs.find((j) => j.consul_sd_configs?.some((c) => c.services.includes(config.discovery.consul.service)));
    assert.ok(pg, "a scrape job discovers the Pushgateway service");
    assert.equal(pg.honor_labels, true);
    const ds = prom.scrape_configs.find((j) => j.consul_sd_configs?.some((c) => c.services.includes("dyshard")));
    assert.ok(ds, "a scrape job discovers the dyshards");
    for (const j of [pg, ds]) for (const c of j.consul_sd_configs!) assert.equal(c.server, new URL(config.discovery.consul.address).host);
    assert.ok(services[new URL(config.discovery.consul.address).hostname]);
  });
});
