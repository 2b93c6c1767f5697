// deploy/grafana/dyshard.json: valid JSON, equal to its generator's output, every metric and label
// its queries name one dyshard exports, and every query run by a real Prometheus 2.42 that scrapes
// a real dyshard (with --replicas 2, --prometheus and --group-ttl, over real Pushgateways, one killed).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Registry } from "prom-client";
import { ROWS, dashboard } from "../../scripts/grafana-dashboard.js";
import type { App } from "../../src/runtime/single-process.js";
import { catalogue } from "../support/catalogue.js";
import { startDyshard } from "../support/dyshard.js";
import { freePort, waitFor } from "../support/ports.js";
import { Prometheus } from "../support/prometheus.js";
import { push } from "../support/push.js";
import { startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";

const FILE = fileURLToPath(new URL("../../../deploy/grafana/dyshard.json", import.meta.url));
const EXPRS = ROWS.flatMap((r) => r.panels.flatMap((p) => p.queries.map((q) => q.expr)));
/** Labels Prometheus adds or a histogram carries, beside a metric's own. */
const ADDED = new Set(["job", "instance", "le"]);

/** The dashboard's queries as Grafana would send them over a few seconds of samples. */
const filled = (expr: string) => expr.replaceAll("$__rate_interval", "30s").replaceAll("$job", ".*");

describe("the Grafana dashboard", () => {
  it("is the generator's output and valid JSON", () => {
    const text = readFileSync(FILE, "utf8");
    assert.deepEqual(JSON.parse(text), dashboard(), "regenerate: node dist/scripts/grafana-dashboard.js > deploy/grafana/dyshard.json");
    assert.ok(EXPRS.length >= 20, `${EXPRS.length} queries`);
  });

  it("names only metrics dyshard exports, grouped by labels they carry", async () => {
    const metrics = await catalogue(new Registry());
    for (const expr of EXPRS) {
      const names = [...expr.matchAll(/\bdyshard_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ""));
      assert.ok(names.length > 0, expr);
      for (const name of names) {
        const labels = metrics.get(name);
        assert.ok(labels, `${name} (in ${expr}) is no metric of dyshard's`);
        for (const by of expr.matchAll(/by \(([^)]*)\)/g))
          for (const label of (by[1] as string).split(",").map((l) => l.trim()))
            assert.ok(ADDED.has(label) || labels.includes(label), `${name} has no label ${label} (in ${expr})`);
      }
    }
  });

  describe("its queries in a real Prometheus", () => {
    let pgs: Pushgateway[];
    let app: App;
    let prom: Prometheus;
    before(async () => {
      pgs = await startPushgateways(3);
      const promPort = await freePort();
      app = await startDyshard(
        pgs.map((p) => p.url),
        { replicas: 2, prometheus: [`prom=http://127.0.0.1:${promPort}`], rebalanceInterval: "0", groupTtl: "1s" },
      );
      const config = [
        "global: {scrape_interval: 1s}",
        "scrape_configs:",
        "  - job_name: dyshard",
        `    static_configs: [{targets: ["${new URL(app.url).host}"]}]`,
      ];
      prom = await Prometheus.start(`${config.join("\n")}\n`, promPort);
      for (let i = 0; i < 40; i++) await push(app.url, `/metrics/job/dash/n/${i % 8}`, `x ${i}\n`);
      // Pushes right after the kill, before the checks see it: retries and failed standby writes.
      await pgs[2]!.kill();
      for (let i = 0; i < 40; i++) await push(app.url, `/metrics/job/dash/n/${i % 8}`, `x ${i}\n`);
      await waitFor("the killed instance marked down", async () => app.membership.healthyCount() === 2);
      await new Promise((r) => setTimeout(r, 1100)); // the groups expire in the run below
      await fetch(`${app.url}/-/dyshard/rebalance`, { method: "POST" });
      await waitFor(
        "eight scrapes in all",
        async () => ((await prom.query("count_over_time(dyshard_ring_healthy_members[1m])"))[0]?.value ?? 0) >= 8,
        20_000,
      );
    });
    after(async () => {
      await prom?.remove();
      await app?.stop();
      await stopAll(pgs ?? []);
    });

    it("every query runs, and those the setup exercises have data", async () => {
      // Consul discovery is not in this setup, and nothing here answers 5xx: those may be empty.
      const empty: string[] = [];
      for (const expr of EXPRS) {
        const result = await prom.query(filled(expr));
        if (result.length === 0) empty.push(expr);
      }
      process.stdout.write(`# dashboard: ${EXPRS.length} queries ran, ${EXPRS.length - empty.length} with data\n`);
      assert.deepEqual(
        empty.filter((e) => !e.includes("dyshard_discovery_") && !e.includes('code=~"5.."')),
        [],
      );
    });
  });
});
