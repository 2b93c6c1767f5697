// Group expiry over three real Pushgateways with dyshard in-process (--replicas 2, --group-ttl 2s,
// job "keep" exempt for an hour): the sweep deletes every copy, primary and standby, of the groups
// nobody pushed for 2 s, keeps those pushed again just before, and the dry run only lists them.
// Then the race: a push landing on the owner after the sweep's inventory, before its delete, keeps
// the group (the executor re-reads the owner), and pushes sent while a sweep runs all survive it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createLogger } from "../../src/core/logger.js";
import { executePlan } from "../../src/handover/executor.js";
import { families } from "../../src/handover/copies.js";
import { expiryPolicy } from "../../src/handover/expiry.js";
import { groupId, planHandover } from "../../src/handover/plan.js";
import type { RunReport } from "../../src/handover/run-report.js";
import { PushgatewayClient } from "../../src/pushgateway/client/pushgateway-client.js";
import { pushTimeSeconds, type ApiGroup } from "../../src/pushgateway/exposition.js";
import type { App } from "../../src/runtime/single-process.js";
import { startDyshard } from "../support/dyshard.js";
import { inParallel, push } from "../support/push.js";
import { familyValue, startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";

const TTL_MS = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Copies of each job's groups over every instance: primaries and standby copies. */
async function copiesByJob(pgs: Pushgateway[]): Promise<Record<string, { primaries: number; standbys: number }>> {
  const out: Record<string, { primaries: number; standbys: number }> = {};
  for (const groups of await Promise.all(pgs.map((p) => p.groups())))
    for (const g of groups) {
      const c = (out[g.labels.job as string] ??= { primaries: 0, standbys: 0 });
      if (g.labels.dyshard_replica === "1") c.standbys++;
      else c.primaries++;
    }
  return out;
}

async function rebalance(app: App, dryRun = false): Promise<RunReport> {
  const res = await fetch(`${app.url}/-/dyshard/rebalance${dryRun ? "?dry_run=1" : ""}`, { method: "POST" });
  return (await res.json()) as RunReport;
}

describe("group expiry", () => {
  let pgs: Pushgateway[];
  let app: App & { logs: string[] };
  before(async () => {
    pgs = await startPushgateways(3);
    app = await startDyshard(
      pgs.map((p) => p.url),
      { replicas: 2, groupTtl: `${TTL_MS}ms`, groupTtlByJob: ["keep=1h"], rebalanceInterval: "0", rebalanceSettle: "100ms" },
    );
  });
  after(async () => {
    await app?.stop();
    await stopAll(pgs ?? []);
  });

  it("deletes every copy of groups nobody pushed for the TTL, keeps one pushed again just before it and exempt jobs", async () => {
    const paths = (job: string, n: number) => Array.from({ length: n }, (_, i) => `/metrics/job/${job}/i/${i}`);
    await inParallel([...paths("old", 30), ...paths("again", 10), ...paths("keep", 5)], 8, (p) => push(app.url, p, "v 1\n"));
    const pushed = Date.now();
    await sleep(TTL_MS - 700);
    for (const p of paths("again", 10)) assert.equal((await push(app.url, p, "v 2\n")).status, 200);
    await sleep(pushed + TTL_MS + 300 - Date.now());

    const planned = await rebalance(app, true);
    assert.equal(planned.expired, 30, "the dry run lists what would expire");
    assert.equal(planned.steps.filter((s) => s.action === "expire").length, 30);
    assert.match(planned.steps.find((s) => s.action === "expire")?.reason ?? "", /^no push for \d+s \(TTL 2s\)$/);
    assert.deepEqual((await copiesByJob(pgs)).old, { primaries: 30, standbys: 30 }, "a dry run deletes nothing");

    const t0 = performance.now();
    const report = await rebalance(app);
    const ms = performance.now() - t0;
    assert.equal(report.expired, 30);
    assert.equal(report.failed, 0, JSON.stringify(report.errors));
    const after = await copiesByJob(pgs);
    assert.equal(after.old, undefined, "no copy of an expired group is left anywhere");
    assert.deepEqual(after.again, { primaries: 10, standbys: 10 });
    assert.deepEqual(after.keep, { primaries: 5, standbys: 5 });
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    assert.match(metrics, /^dyshard_groups_expired_total\{job="old"\} 30$/m);
    const logged = app.logs.filter((l) => l.includes('"group expired"'));
    assert.equal(logged.length, 30);
    assert.match(logged[0] as string, /"from":\["http:[^"]+"\],"standby_from":\["http:[^"]+"\],"copies":2/);
    process.stdout.write(
      `# expiry: 45 groups (90 copies) over 3 instances, TTL 2s; 30 expired (60 copies deleted, one log line each) in ${ms.toFixed(0)} ms; 10 pushed again 0.7 s before the TTL and 5 of an exempt job kept with both copies\n`,
    );
  });

  it("keeps a group pushed to its owner after the sweep's inventory, before the delete", async () => {
    const [owner, standby] = [pgs[0] as Pushgateway, pgs[1] as Pushgateway];
    await fetch(`${owner.url}/metrics/job/race/i/1`, { method: "PUT", body: "v 1\n" });
    await fetch(`${standby.url}/metrics/job/race/i/1/dyshard_replica/1`, { method: "PUT", body: 'v{dyshard_replica="1"} 1\n' });
    await sleep(TTL_MS + 200);
    const snapshot = new Map<string, ApiGroup>();
    const copies = [];
    for (const [slot, pg] of [owner, standby].entries())
      for (const g of (await pg.groups()) as ApiGroup[])
        if (g.labels.job === "race") {
          snapshot.set(`${slot}|${groupId(g.labels)}`, g);
          copies.push({ slot, labels: g.labels, pushTime: pushTimeSeconds(g), families: families(g) });
        }
    const expiry = { nowS: Date.now() / 1000, ttlS: expiryPolicy(TTL_MS, {})! };
    const plan = planHandover({ copies, ownersOf: () => [0, 1], inventoried: new Set([0, 1]), expiry });
    assert.equal(plan.expired, 1, "planned to expire");
    await fetch(`${owner.url}/metrics/job/race/i/1`, { method: "PUT", body: "v 2\n" }); // the push racing the expiry
    const client = new PushgatewayClient({ timeoutMs: 2000, maxInventoryBytes: 1 << 20 });
    const urls = [owner.url, standby.url];
    const deps = { client, urlOf: (s: number) => urls[s], ownerOf: () => 0, ownersOf: () => [0, 1], snapshot, concurrency: 2 };
    const [result] = await executePlan(plan, { ...deps, log: createLogger("silent") }).finally(() => client.close());
    assert.equal(result?.outcome, "skipped");
    assert.match(result?.error ?? "", /pushed again since the plan/);
    const kept = (await owner.groups()).find((g) => g.labels.job === "race");
    assert.equal(kept && familyValue(kept, "v"), "2");
    await fetch(`${owner.url}/metrics/job/race/i/1`, { method: "DELETE" });
    await fetch(`${standby.url}/metrics/job/race/i/1/dyshard_replica/1`, { method: "DELETE" });
  });

  it("lets every push sent while a sweep expires its group survive it", async () => {
    const paths = Array.from({ length: 40 }, (_, i) => `/metrics/job/racing/i/${i}`);
    await inParallel(paths, 8, (p) => push(app.url, p, "v 1\n"));
    await sleep(TTL_MS + 200);
    // Pushes spread over the sweep's run: each lands before its inventory, between inventory and
    // delete (held by the gate, or seen by the re-read), or after it; the last value must stay.
    const sweep = rebalance(app);
    const pushes = inParallel(paths, 4, async (p) => {
      await sleep(Math.random() * 30);
      return (await push(app.url, p, "v 2\n")).status;
    });
    const [report, statuses] = await Promise.all([sweep, pushes]);
    const expired = report.steps.filter((s) => s.group.job === "racing" && s.outcome === "expired").length;
    assert.deepEqual([...new Set(statuses)], [200]);
    const held = (await Promise.all(pgs.map((p) => p.groups())))
      .flat()
      .filter((g) => g.labels.job === "racing" && !g.labels.dyshard_replica);
    assert.equal(held.length, 40, `every group pushed during the sweep is there (${expired} expired by the sweep first)`);
    assert.deepEqual([...new Set(held.map((g) => familyValue(g, "v")))], ["2"]);
    process.stdout.write(
      `# expiry race: 40 groups due, pushed again during the sweep: ${expired} expired before their push, ${40 - expired} kept by it; 40 of 40 hold the new value\n`,
    );
  });
});
