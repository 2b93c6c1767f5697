// --replicas 2 on the push path, over real Pushgateways: every push also writes its standby copy
// (the group plus dyshard_replica="1") on the group's next owner, and the client's answer comes
// once both are written; a client may not push the reserved label; a standby that is down never
// fails the push; a body too large to hold is left to the sweep. The handover is kept out of the
// way here (its replica rules are tested on their own).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { createLogger } from "../../src/core/logger.js";
import { routingKey } from "../../src/pushgateway/grouping-key.js";
import { startApp, type App } from "../../src/runtime/single-process.js";
import { spawnSync } from "node:child_process";
import { CLI } from "../support/dyshard.js";
import { waitFor } from "../support/ports.js";
import { Prometheus } from "../support/prometheus.js";
import { push } from "../support/push.js";
import { familyValue, startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";

/** dyshard with --replicas 2, which the CLI still refuses (the handover's replica rules land apart). */
async function startReplicated(upstreams: string[], flags: Record<string, unknown> = {}): Promise<App> {
  const config = loadConfig({
    flags: { listen: "127.0.0.1:0", upstream: upstreams, rebalanceInterval: "0", rebalanceSettle: "1h", healthInterval: "200ms", ...flags },
  });
  return startApp({ ...config, replicas: 2 }, createLogger("silent"));
}

const labelsOf = (g: { labels: Record<string, string> }) => JSON.stringify(Object.entries(g.labels).sort());
const valueOf = (pg: Pushgateway, labels: Record<string, string>) =>
  pg.groups().then((gs) => {
    const g = gs.find((x) => labelsOf(x) === JSON.stringify(Object.entries(labels).sort()));
    return g ? familyValue(g, "v") : undefined;
  });

describe("--replicas 2: standby copies on the push path", () => {
  let pgs: Pushgateway[];
  before(async () => {
    pgs = await startPushgateways(3);
  });
  after(async () => {
    await stopAll(pgs ?? []);
  });

  for (const engine of ["undici", "native", "http-proxy"]) {
    it(`${engine}: each push leaves its primary on the owner and its standby copy on the next owner, both there when the client is answered`, async () => {
      const app = await startReplicated(
        pgs.map((p) => p.url),
        { engine },
      );
      try {
        for (let i = 0; i < 12; i++) {
          const group = { job: `rep-${engine}`, labels: { instance: `i${i}` } };
          const res = await push(app.url, `/metrics/job/${group.job}/instance/i${i}`, `v ${i + 1}\n`);
          assert.equal(res.status, 200, res.text);
          const [owner, standby] = app.membership.ring.owners(routingKey(group), 2);
          const labels = { job: group.job, instance: `i${i}` };
          // Read right after the answer: the standby copy is already there.
          assert.equal(await valueOf(pgs[standby!]!, { ...labels, dyshard_replica: "1" }), String(i + 1), `standby of i${i}`);
          assert.equal(await valueOf(pgs[owner!]!, labels), String(i + 1), `primary of i${i}`);
          for (const [slot, pg] of pgs.entries())
            if (slot !== owner && slot !== standby) assert.equal(await valueOf(pg, labels), undefined, `no copy on slot ${slot}`);
        }
      } finally {
        await app.stop();
      }
    });
  }

  it("DELETE deletes the primary and the standby copy; a push carrying dyshard_replica is a 400 that says the name is reserved", async () => {
    const app = await startReplicated(pgs.map((p) => p.url));
    try {
      const group = { job: "rep-del", labels: { instance: "x" } };
      assert.equal((await push(app.url, "/metrics/job/rep-del/instance/x", "v 1\n")).status, 200);
      const [owner, standby] = app.membership.ring.owners(routingKey(group), 2);
      assert.equal((await push(app.url, "/metrics/job/rep-del/instance/x", "", "DELETE")).status, 202);
      assert.equal(await valueOf(pgs[owner!]!, { job: "rep-del", instance: "x" }), undefined);
      assert.equal(await valueOf(pgs[standby!]!, { job: "rep-del", instance: "x", dyshard_replica: "1" }), undefined);
      const reserved = await push(app.url, "/metrics/job/rep-del/dyshard_replica/1", "v 1\n");
      assert.equal(reserved.status, 400);
      assert.match(reserved.text, /dyshard_replica is reserved/);
    } finally {
      await app.stop();
    }
  });

  it("a standby that is down never fails the push (counted failed); a body over --retry-body is answered and counted skipped", async () => {
    const app = await startReplicated(
      pgs.map((p) => p.url),
      { retryBody: "1KiB", healthFall: "100" },
    );
    const victim = pgs[2]!;
    try {
      await victim.kill();
      let i = 0;
      let group = { job: "rep-down", labels: { instance: "i0" } };
      while (app.membership.ring.owners(routingKey(group), 2)[1] !== 2) group = { job: "rep-down", labels: { instance: `i${++i}` } };
      const res = await push(app.url, `/metrics/job/rep-down/instance/i${i}`, "v 1\n");
      assert.equal(res.status, 200, res.text);
      const big = await push(app.url, `/metrics/job/rep-big/instance/x`, `v 1\n# ${"x".repeat(4096)}\n`);
      assert.equal(big.status, 200, big.text);
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      assert.match(metrics, /^dyshard_replica_writes_total\{result="failed"\} 1$/m);
      assert.match(metrics, /^dyshard_replica_writes_total\{result="skipped"\} 1$/m);
    } finally {
      await app.stop();
      await victim.restart();
    }
  });

  it("a real Prometheus with the generated config ingests one series per group while both copies exist", async () => {
    const app = await startReplicated(pgs.map((p) => p.url));
    let prom: Prometheus | undefined;
    try {
      for (let i = 0; i < 6; i++)
        assert.equal((await push(app.url, `/metrics/job/rep-prom/instance/i${i}`, `rep_value ${i}\n`)).status, 200);
      const args = [
        "prometheus-config",
        "--sd",
        "http",
        "--sd-url",
        `${app.url}/-/dyshard/sd`,
        "--refresh-interval",
        "1s",
        "--scrape-interval",
        "1s",
      ];
      const generated = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
      assert.equal(generated.status, 0, generated.stderr);
      prom = await Prometheus.start(generated.stdout);
      const standbys = (await Promise.all(pgs.map((p) => p.groups())))
        .flat()
        .filter((g) => g.labels.job === "rep-prom" && g.labels.dyshard_replica === "1");
      assert.equal(standbys.length, 6, "six standby copies on the Pushgateways");
      await waitFor(
        "Prometheus scraping all three",
        async () => (await prom!.activeTargets("pushgateway")).filter((t) => t.health === "up").length === 3,
        30_000,
        250,
      );
      await waitFor("the pushed series ingested", async () => (await prom!.query('rep_value{job="rep-prom"}')).length >= 6, 30_000, 250);
      await new Promise((r) => setTimeout(r, 2500)); // two more scrapes of every Pushgateway
      const series = await prom.query('rep_value{job="rep-prom"}');
      process.stdout.write(`# --replicas 2 + generated config: ${series.length} series for 6 groups with 12 copies\n`);
      assert.equal(series.length, 6);
      assert.ok(series.every((s) => !("dyshard_replica" in s.metric)));
    } finally {
      await prom?.remove();
      await app.stop();
    }
  });

  it("after a failover, DELETE leaves no copy anywhere: the old standby (now the owner) loses its standby copy too, so nothing can be promoted back", async () => {
    const app = await startReplicated(
      pgs.map((p) => p.url),
      { healthFall: "2" },
    );
    const group = { job: "rep-failover", labels: { instance: "x" } };
    const [owner, standby] = app.membership.ring.owners(routingKey(group), 2);
    const victim = pgs[owner!]!;
    try {
      assert.equal((await push(app.url, "/metrics/job/rep-failover/instance/x", "v 7\n")).status, 200);
      await victim.kill();
      await waitFor("the owner down", async () => !app.membership.members[owner!]!.healthy, 10_000);
      assert.equal(app.membership.owner(routingKey(group))?.slot, standby, "the standby slot owns the group now");
      assert.equal((await push(app.url, "/metrics/job/rep-failover/instance/x", "", "DELETE")).status, 202);
      const left = (await Promise.all(pgs.filter((p) => p !== victim).map((p) => p.groups())))
        .flat()
        .filter((g) => g.labels.job === "rep-failover");
      assert.deepEqual(left, [], "no primary and no standby copy on any live instance");
      await victim.restart(); // back empty: nothing left to promote
      await waitFor("the owner back", async () => app.membership.members[owner!]!.healthy, 10_000);
      const all = (await Promise.all(pgs.map((p) => p.groups()))).flat().filter((g) => g.labels.job === "rep-failover");
      assert.deepEqual(all, []);
    } finally {
      await app.stop();
      if (!victim.pid) await victim.restart();
    }
  });
});
