// Standby copies (--replicas 2) over three real Pushgateways: every group planted as its primary
// on its owner and its standby copy (dyshard_replica="1") on the next owner. An instance dies with
// its disk (SIGKILL, restarted empty) and the handover promotes the standby copies of the groups
// it owned and re-replicates those it stood by for: no group is lost, each is once a primary on
// its owner with its pushed value and once a standby copy on its standby slot. Then a second
// instance is lost the same way, and a third stays down for a while. The Handover is built from a
// Config with replicas: 2 (serve still refuses --replicas above 1); copies are planted directly.
// Then the executor alone: a standby slot that dies before the write keeps the stale standby copies.
// Last, copies written by the push path itself (dyshard in-process with R = 2) through two losses.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { loadConfig } from "../../src/config/load.js";
import { families, sameData as sameSamples } from "../../src/handover/copies.js";
import { executePlan } from "../../src/handover/executor.js";
import { groupId, planHandover, type GroupCopy } from "../../src/handover/plan.js";
import { PushgatewayClient } from "../../src/pushgateway/client/pushgateway-client.js";
import { pushTimeSeconds, type ApiGroup } from "../../src/pushgateway/exposition.js";
import { freePort, waitFor } from "../support/ports.js";
import { startApp, type App } from "../../src/runtime/single-process.js";
import { createLogger } from "../../src/core/logger.js";
import { handoverFromConfig } from "../../src/handover/from-config.js";
import type { Handover } from "../../src/handover/handover.js";
import type { RunReport } from "../../src/handover/run-report.js";
import { Membership } from "../../src/membership/membership.js";
import { routingKey } from "../../src/pushgateway/grouping-key.js";
import { loadHash64 } from "../../src/routing/hash.js";
import { inParallel, push } from "../support/push.js";
import { startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";

const JOB = "replicas";
const N = 200;
const instance = (i: number) => `host-${i}`;
const value = (i: number) => String(1000 + i);
const keyOf = (i: number) => routingKey({ job: JOB, labels: { instance: instance(i) } });
const ids = Array.from({ length: N }, (_, i) => i);
/** A histogram and a summary with help texts: a promotion must rebuild them intact, without the replica label. */
const RICH =
  '# TYPE lat histogram\nlat_bucket{le="0.1"} 3\nlat_bucket{le="1"} 7\nlat_bucket{le="+Inf"} 9\nlat_sum 4.5\nlat_count 9\n# HELP q Quantiles.\n# TYPE q summary\nq{quantile="0.5"} 0.2\nq{quantile="0.99"} 1.5\nq_sum 12\nq_count 30\n';

interface Where {
  primaries: number[];
  standbys: number[];
  /** Every copy's value of `v`, and whether its metrics carry the replica label as a standby copy must (and a primary must not). */
  values: string[];
  labelsRight: boolean;
}

/** Where every group of the job is, by Pushgateway index (= slot), on the instances that are up. */
async function holdings(pgs: Pushgateway[], down: ReadonlySet<number>): Promise<Map<string, Where>> {
  const out = new Map<string, Where>();
  (await Promise.all(pgs.map((p, slot) => (down.has(slot) ? [] : p.groups())))).forEach((groups, slot) => {
    for (const g of groups.filter((g) => g.labels.job === JOB)) {
      const name = g.labels.instance as string;
      const w = out.get(name) ?? { primaries: [], standbys: [], values: [], labelsRight: true };
      const standby = g.labels.dyshard_replica === "1";
      (standby ? w.standbys : w.primaries).push(slot);
      const metric = (g.v as { metrics: { labels: Record<string, string>; value: string }[] } | undefined)?.metrics[0];
      w.values.push(metric?.value ?? "none");
      w.labelsRight &&= (metric?.labels.dyshard_replica === "1") === standby;
      out.set(name, w);
    }
  });
  return out;
}

/** Groups not exactly once a primary on owners[0] and once a standby copy on owners[1], with their value, by reason. */
async function wrong(
  pgs: Pushgateway[],
  membership: Membership,
  down: ReadonlySet<number>,
): Promise<{ lost: number; misplaced: string[] }> {
  const where = await holdings(pgs, down);
  const misplaced: string[] = [];
  let lost = 0;
  for (const i of ids) {
    const w = where.get(instance(i));
    if (!w || !w.values.includes(value(i))) {
      lost++;
      continue;
    }
    const owners = membership.ring.owners(keyOf(i), 2);
    const ok =
      w.primaries.length === 1 &&
      w.primaries[0] === owners[0] &&
      w.standbys.length === 1 &&
      w.standbys[0] === owners[1] &&
      w.values.every((v) => v === value(i)) &&
      w.labelsRight;
    if (!ok) misplaced.push(`${instance(i)} ${JSON.stringify(w)} owners ${JSON.stringify(owners)}`);
  }
  return { lost, misplaced };
}

describe("handover with standby copies (R = 2)", () => {
  let pgs: Pushgateway[];
  let membership: Membership;
  let handover: Handover;
  const registry = new Registry();
  const logs: string[] = [];
  const down = new Set<number>();
  let richInstance = "";
  let richOwners: number[] = [];
  let richSeries: string[] = [];
  const richOn = async (pg: Pushgateway) =>
    (await pg.pushedSeries()).filter((l) => l.includes(`instance="${richInstance}"`) && !l.startsWith("push_"));

  before(async () => {
    pgs = await startPushgateways(3);
    const config = { ...loadConfig({ flags: { upstream: pgs.map((p) => p.url) } }), replicas: 2 };
    membership = new Membership(config.upstreams, await loadHash64());
    const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => (logs.push(chunk.toString()), cb()) });
    handover = handoverFromConfig(config, membership, registry, createLogger("info", sink), { once: true });
    // Plant what the push path writes: the primary on the owner, then the standby copy on the next owner.
    const statuses = await inParallel(ids, 20, async (i) => {
      const [owner, standby] = membership.ring.owners(keyOf(i), 2) as [number, number];
      const path = `/metrics/job/${JOB}/instance/${instance(i)}`;
      const primary = await push(pgs[owner]!.url, path, `v ${value(i)}\n`);
      const copy = await push(pgs[standby]!.url, `${path}/dyshard_replica/1`, `v ${value(i)}\n`);
      return `${primary.status} ${copy.status}`;
    });
    assert.deepEqual(new Set(statuses), new Set(["200 200"]));
    // One job "rich" group owned by slot 0, its standby copy on the next owner.
    for (let i = 0; richOwners.length === 0; i++)
      if (membership.ring.owners(routingKey({ job: "rich", labels: { instance: `r-${i}` } }), 2)[0] === 0) {
        richInstance = `r-${i}`;
        richOwners = membership.ring.owners(routingKey({ job: "rich", labels: { instance: richInstance } }), 2);
      }
    const path = `/metrics/job/rich/instance/${richInstance}`;
    assert.equal((await push(pgs[0]!.url, path, RICH)).status, 200);
    assert.equal((await push(pgs[richOwners[1]!]!.url, `${path}/dyshard_replica/1`, RICH)).status, 200);
    richSeries = await richOn(pgs[0]!);
    assert.equal(richSeries.length, 9);
  });
  after(async () => {
    await handover?.stop();
    await stopAll(pgs ?? []);
  });

  /** Groups (the rich one too) that have `slot` as owner and as standby slot on the current ring. */
  const roles = (slot: number) => {
    const keys = [...ids.map(keyOf), routingKey({ job: "rich", labels: { instance: richInstance } })];
    return {
      owned: keys.filter((k) => membership.ring.owners(k, 2)[0] === slot).length,
      stoodBy: keys.filter((k) => membership.ring.owners(k, 2)[1] === slot).length,
    };
  };

  async function run(what: string): Promise<RunReport> {
    const report = await handover.run();
    const { lost, misplaced } = await wrong(pgs, membership, down);
    process.stdout.write(
      `# ${what}: groups lost ${lost} of ${N}; promotions ${report.promoted}; re-replications ${report.replicated}; copies ${report.copied}; deleted ${report.deleted}; failed ${report.failed}; run ${report.duration_ms} ms\n`,
    );
    assert.equal(lost, 0, "no group is lost");
    assert.deepEqual(misplaced, [], "every group once a primary on its owner and once a standby copy on its standby slot");
    assert.deepEqual(report.errors, []);
    assert.equal(report.failed, 0, JSON.stringify(report.steps.filter((s) => s.outcome === "failed")));
    return report;
  }

  /** A second run finds nothing to do: the copies the handover wrote are not taken for newer pushes. */
  async function settled(): Promise<void> {
    const again = await handover.run();
    assert.deepEqual([again.misplaced, again.steps.length], [0, 0], JSON.stringify(again.steps.slice(0, 3)));
  }

  it("leaves the planted copies alone: the primary and its standby copy written one after the other are one push", async () => {
    const report = await run("planted");
    assert.equal(report.groups, N + 1, "a group and its standby copy count as one group (N, and the rich one)");
    assert.equal(report.misplaced, 0);
  });

  for (const [nth, slot] of [
    ["first", 0],
    ["second", 1],
  ] as const) {
    it(`the ${nth} instance dies with its disk: its groups' standby copies are promoted, the groups it stood by for re-replicated`, async () => {
      const expected = roles(slot);
      assert.ok(expected.owned > N / 6 && expected.stoodBy > N / 6, JSON.stringify(expected));
      await pgs[slot]!.kill("SIGKILL");
      await pgs[slot]!.restart(); // empty: persistence is off, as if the disk were lost
      assert.deepEqual(await pgs[slot]!.groups(), []);
      const report = await run(`slot ${slot} lost with its disk`);
      assert.deepEqual([report.promoted, report.replicated, report.copied, report.deleted], [expected.owned, expected.stoodBy, 0, 0]);
      await settled();
      if (slot === 0) {
        assert.deepEqual(await richOn(pgs[0]!), richSeries, "the promoted histogram and summary are intact, without the replica label");
        const standby = await richOn(pgs[richOwners[1]!]!);
        assert.deepEqual(
          standby,
          richSeries.map((l) => l.replace("{", '{dyshard_replica="1",')),
          "the standby copy is kept",
        );
      }
    });
  }

  it("an instance down for a while: its groups are promoted in place on the next owner; when it comes back empty, they move back", async () => {
    const expected = roles(2);
    await pgs[2]!.kill("SIGKILL");
    down.add(2);
    membership.setHealth(2, false, "killed by the test");
    // With two healthy instances of three, each group's owners are those two.
    const gone = await run("slot 2 down");
    assert.equal(gone.promoted, expected.owned, "its standby copies became primaries on their slot");
    assert.equal(gone.replicated, expected.owned + expected.stoodBy, "each lost copy written again on the other survivor");
    assert.equal(gone.deleted, expected.owned, "the promoted standby copies, now on the owner, deleted once replaced");
    await settled();

    await pgs[2]!.restart();
    down.delete(2);
    membership.setHealth(2, true, "back, empty");
    const back = await run("slot 2 back, empty");
    assert.deepEqual(
      [back.promoted, back.copied],
      [0, expected.owned],
      "the primaries come back from the interim owner, not from a standby copy",
    );
    assert.equal(back.replicated, expected.owned + expected.stoodBy);
    assert.equal(back.deleted, 2 * expected.owned + expected.stoodBy, "the interim primaries and standby copies");
    await settled();

    const metrics = await registry.metrics();
    const total = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(metrics)?.[1]);
    assert.ok(total("dyshard_handover_groups_promoted_total") >= 2 * (N / 6));
    assert.ok(total("dyshard_handover_groups_replicated_total") >= 2 * (N / 6));
    process.stdout.write(
      `# metrics: promoted_total ${total("dyshard_handover_groups_promoted_total")}, replicated_total ${total("dyshard_handover_groups_replicated_total")}, copied_total ${total("dyshard_handover_groups_copied_total")}\n`,
    );
  });
  it("a standby copy that cannot be written keeps the stale standby copies; the next run, with the slot back, finishes", async () => {
    // Owners [0, 1] by hand; standby copies left on the owner and on slot 2; slot 1 dies between the inventory and the write.
    for (const [slot, suffix] of [
      [0, ""],
      [0, "/dyshard_replica/1"],
      [2, "/dyshard_replica/1"],
    ] as const)
      assert.equal((await push(pgs[slot]!.url, `/metrics/job/fragile/instance/f${suffix}`, "v 7\n")).status, 200);
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    const attempt = async (urlOf: (slot: number) => string | undefined) => {
      const snapshot = new Map<string, ApiGroup>();
      const copies: GroupCopy[] = [];
      for (const slot of [0, 2])
        for (const g of (await pgs[slot]!.groups()).filter((g) => g.labels.job === "fragile")) {
          snapshot.set(`${slot}|${groupId(g.labels)}`, g as ApiGroup);
          copies.push({ slot, labels: g.labels, pushTime: pushTimeSeconds(g as ApiGroup), families: families(g as ApiGroup) });
        }
      const inSnapshot = (c: GroupCopy) => snapshot.get(`${c.slot}|${groupId(c.labels)}`)!;
      const sameData = (a: GroupCopy, b: GroupCopy) => sameSamples(inSnapshot(a), inSnapshot(b));
      const plan = planHandover({ copies, ownersOf: () => [0, 1], inventoried: new Set([0, 1, 2]), sameData });
      assert.deepEqual(
        plan.steps.map((x) => [x.action, x.replicate, x.standbyFrom?.sort()]),
        [["replicate", [1], [0, 2]]],
      );
      const client = new PushgatewayClient({ timeoutMs: 2000, maxInventoryBytes: 1 << 20 });
      const deps = { client, urlOf, ownerOf: () => 0, ownersOf: () => [0, 1], snapshot, concurrency: 4, log: createLogger("silent") };
      try {
        return await executePlan(plan, deps);
      } finally {
        await client.close();
      }
    };
    const standbysOf = async (slot: number) =>
      (await pgs[slot]!.groups()).filter((g) => g.labels.job === "fragile" && g.labels.dyshard_replica === "1").length;

    const [failed] = await attempt((slot) => (slot === 1 ? deadUrl : pgs[slot]?.url));
    assert.equal(failed?.outcome, "failed");
    assert.match(failed?.error ?? "", /standby copy to http:\/\/127.0.0.1:\d+: .*standby slot 1 could not be read back/);
    assert.deepEqual([failed?.deleted, await standbysOf(0), await standbysOf(2)], [0, 1, 1], "the stale standby copies are kept");

    const [done] = await attempt((slot) => pgs[slot]?.url);
    assert.deepEqual([done?.outcome, done?.replicated, done?.deleted, done?.error], ["replicated", 1, 2, undefined]);
    assert.deepEqual([await standbysOf(0), await standbysOf(1), await standbysOf(2)], [0, 1, 0]);
  });
});

describe("handover with standby copies written by the push path (R = 2)", () => {
  const M = 100;
  const path = (i: number) => `/metrics/job/${JOB}/instance/${instance(i)}`;
  let pgs: Pushgateway[];
  let app: App | undefined;
  const down = new Set<number>();
  before(async () => {
    pgs = await startPushgateways(3);
    // The handover runs only when asked (settle 1h, no sweep): each run below is the one measured.
    const config = loadConfig({
      flags: {
        listen: "127.0.0.1:0",
        upstream: pgs.map((p) => p.url),
        rebalanceInterval: "0",
        rebalanceSettle: "1h",
        healthInterval: "100ms",
        healthRise: "1",
        healthFall: "1",
      },
    });
    app = await startApp({ ...config, replicas: 2 }, createLogger("silent"));
  });
  after(async () => {
    await app?.stop();
    await stopAll(pgs ?? []);
  });

  const pushAll = async (round: number) => {
    const statuses = await inParallel(
      ids.slice(0, M),
      20,
      async (i) => (await push(app!.url, path(i), `v ${round * 10_000 + i}\n`)).status,
    );
    assert.deepEqual(new Set(statuses), new Set([200]));
  };
  const lostOrMisplaced = async (round: number) => {
    const where = await holdings(pgs, down);
    return ids.slice(0, M).filter((i) => {
      const w = where.get(instance(i));
      const [owner, standby] = app!.membership.ring.owners(keyOf(i), 2);
      const want = String(round * 10_000 + i);
      return !(w && w.primaries.join() === String(owner) && w.standbys.join() === String(standby) && w.values.every((v) => v === want));
    });
  };

  it("pushes leave nothing to do; an owner SIGKILLed during pushes and back empty gets its groups back; a disk lost without pushes loses none", async () => {
    await pushAll(1);
    const quiet = await app!.handover.run();
    assert.deepEqual([quiet.misplaced, quiet.steps.length], [0, 0], "a primary and its standby copy written side by side are one push");

    // Slot 0 dies; the pushes of round 2 go to the next owners (primary and standby copy), then it comes back empty.
    await pgs[0]!.kill("SIGKILL");
    down.add(0);
    await pushAll(2);
    await pgs[0]!.restart();
    down.delete(0);
    await waitFor("slot 0 back", async () => app!.membership.members[0]!.healthy, 10_000);
    const back = await app!.handover.run();
    const wrongBack = await lostOrMisplaced(2);
    process.stdout.write(
      `# push path, slot 0 killed during pushes and back empty: groups lost or misplaced ${wrongBack.length} of ${M}; copies ${back.copied}; promotions ${back.promoted}; re-replications ${back.replicated}; deleted ${back.deleted}; run ${back.duration_ms} ms\n`,
    );
    assert.deepEqual(wrongBack, []);
    assert.equal(back.failed, 0);

    // Slot 1 dies with its disk and comes back before anything notices: only the standby copies hold its groups.
    await pgs[1]!.kill("SIGKILL");
    await pgs[1]!.restart();
    await waitFor("slot 1 healthy", async () => app!.membership.members[1]!.healthy, 10_000);
    const lostDisk = await app!.handover.run();
    const wrongDisk = await lostOrMisplaced(2);
    process.stdout.write(
      `# push path, slot 1 lost with its disk: groups lost or misplaced ${wrongDisk.length} of ${M}; promotions ${lostDisk.promoted}; re-replications ${lostDisk.replicated}; run ${lostDisk.duration_ms} ms\n`,
    );
    assert.deepEqual(wrongDisk, []);
    assert.ok(lostDisk.promoted > M / 6 && lostDisk.replicated > M / 6, JSON.stringify([lostDisk.promoted, lostDisk.replicated]));
    const again = await app!.handover.run();
    assert.deepEqual([again.misplaced, again.steps.length], [0, 0]);
  });
});
