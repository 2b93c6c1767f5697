// The handover over real Pushgateways: after a recovery and after a scale-up every group ends up
// exactly once, on its owner, with its latest value; a daily group survives every move; pushes
// during a move never end with the older value; histograms and summaries move intact.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { routingKey } from "../../src/pushgateway/grouping-key.js";
import { loadHash64 } from "../../src/routing/hash.js";
import { Ring, type SlotState } from "../../src/routing/ring.js";
import { startDyshard } from "../support/dyshard.js";
import { waitFor } from "../support/ports.js";
import { DuplicatePoller } from "../support/poller.js";
import { inParallel, push } from "../support/push.js";
import { Pushgateway, startPushgateways, stopAll, type PushgatewayGroup } from "../support/pushgateway.js";

const JOB = "handover";
const N = 500;
const path = (i: number) => `/metrics/job/${JOB}/instance/host-${i}`;
const key = (instance: string, job = JOB) => routingKey({ job, labels: { instance } });

type App = Awaited<ReturnType<typeof startDyshard>>;

/** Every group of the job: where it is, and its value of `v` (or of `daily_value`). */
async function snapshot(pgs: Pushgateway[], job = JOB) {
  const where = new Map<string, { on: number[]; value: string | undefined }>();
  (await Promise.all(pgs.map((p) => p.groups()))).forEach((groups, i) => {
    for (const g of groups.filter((g) => g.labels.job === job)) {
      const inst = g.labels.instance as string;
      const e = where.get(inst) ?? { on: [], value: undefined };
      e.on.push(i);
      e.value = valueOf(g);
      where.set(inst, e);
    }
  });
  return where;
}

function valueOf(g: PushgatewayGroup): string | undefined {
  const fam = (g.v ?? g.daily_value) as { metrics: { value: string }[] } | undefined;
  return fam?.metrics[0]?.value;
}

/** Converged: every expected group exactly once, on its owner, with the expected value. */
async function converged(app: App, pgs: Pushgateway[], expected: Map<string, string>, job = JOB): Promise<boolean> {
  const where = await snapshot(pgs, job);
  if (where.size !== expected.size) return false;
  for (const [inst, value] of expected) {
    const e = where.get(inst);
    const owner = app.membership.owner(key(inst, job))?.slot;
    if (!e || e.on.length !== 1 || e.on[0] !== owner || e.value !== value) return false;
  }
  return true;
}

describe("handover of stale groups", () => {
  let pgs: Pushgateway[];
  let app: App;
  const latest = new Map<string, string>();
  let dailyInstance = "";
  let dailyOwner3 = -1;

  before(async () => {
    pgs = await startPushgateways(3);
    app = await startDyshard(
      pgs.map((p) => p.url),
      { rebalanceInterval: "0", rebalanceSettle: "300ms", healthInterval: "100ms", healthRise: "1", healthFall: "1" },
    );
    // A daily job's group that lives on a survivor while slot 1 is down, on slot 1 after recovery,
    // and on the new slot 3 after the scale-up: it moves twice.
    const h64 = await loadHash64();
    const ring = (s: SlotState[]) => new Ring(s, h64);
    for (let i = 0; ; i++) {
      const k = key(`daily-${i}`, "daily");
      if (
        ring(["healthy", "unhealthy", "healthy"]).owner(k) !== 1 &&
        ring(["healthy", "healthy", "healthy"]).owner(k) === 1 &&
        ring(["healthy", "healthy", "healthy", "healthy"]).owner(k) === 3
      ) {
        dailyInstance = `daily-${i}`;
        dailyOwner3 = ring(["healthy", "unhealthy", "healthy"]).owner(k) as number;
        break;
      }
    }
  });
  after(async () => {
    await app?.stop();
    await stopAll(pgs ?? []);
  });

  it("(a, c, d, e) recovery: kill an instance, push, bring it back empty; each group ends once, on its owner, latest value", async () => {
    await pgs[1]!.kill("SIGKILL");
    await waitFor("slot 1 down", async () => !app.membership.members[1]!.healthy);
    // The daily job pushes once, and a histogram and a summary land on a survivor too.
    assert.equal((await push(app.url, `/metrics/job/daily/instance/${dailyInstance}`, "daily_value 42\n")).status, 200);
    const rich =
      '# TYPE lat histogram\nlat_bucket{le="0.1"} 3\nlat_bucket{le="1"} 7\nlat_bucket{le="+Inf"} 9\nlat_sum 4.5\nlat_count 9\n# HELP q Quantiles.\n# TYPE q summary\nq{quantile="0.5"} 0.2\nq{quantile="0.99"} 1.5\nq_sum 12\nq_count 30\n';
    let richInstance = "";
    for (let i = 0; richInstance === ""; i++)
      if (
        app.membership.owner(key(`rich-${i}`, "rich"))!.slot !== 1 &&
        new Ring(["healthy", "healthy", "healthy"], await loadHash64()).owner(key(`rich-${i}`, "rich")) === 1
      )
        richInstance = `rich-${i}`;
    assert.equal((await push(app.url, `/metrics/job/rich/instance/${richInstance}`, rich)).status, 200);
    const richBefore = (await pgs[app.membership.owner(key(richInstance, "rich"))!.slot]!.pushedSeries()).filter(
      (l) => l.includes(`instance="${richInstance}"`) && !l.startsWith("push_"),
    );
    assert.equal(richBefore.length, 9);

    const ids = Array.from({ length: N }, (_, i) => i);
    const statuses = await inParallel(ids, 20, (i) => push(app.url, path(i), "v 1\n").then((r) => r.status));
    assert.deepEqual(new Set(statuses), new Set([200]));
    ids.forEach((i) => latest.set(`host-${i}`, "1"));

    // Bring it back empty, with a poller watching and pushes going on during the handover.
    const poller = new DuplicatePoller(pgs, JOB).start();
    await pgs[1]!.restart();
    const t0 = performance.now();
    const pushing = (async () => {
      for (let round = 2; round <= 4; round++) {
        await inParallel(ids, 20, async (i) => {
          const r = await push(app.url, path(i), `v ${round}\n`);
          assert.equal(r.status, 200);
          latest.set(`host-${i}`, String(round));
        });
      }
    })();
    await pushing;
    await waitFor("convergence after recovery", () => converged(app, pgs, latest), 20_000, 20);
    const ms = performance.now() - t0;
    await poller.stop();
    process.stdout.write(
      `# recovery: converged in ${ms.toFixed(0)} ms (incl. ${3 * N} pushes during the move); poller saw duplicates in ${poller.pollsWithDuplicates}/${poller.polls} polls, at most ${poller.maxDuplicates} groups at once\n`,
    );

    // (c) the daily group moved from the survivor to slot 1 with its value.
    const daily = await snapshot(pgs, "daily");
    assert.deepEqual(daily.get(dailyInstance), { on: [1], value: "42" });
    assert.notEqual(dailyOwner3, 1);
    // (e) the histogram and the summary moved intact.
    await waitFor("rich group on slot 1", async () => (await pgs[1]!.groups()).some((g) => g.labels.job === "rich"));
    const richAfter = (await pgs[1]!.pushedSeries()).filter((l) => l.includes(`instance="${richInstance}"`) && !l.startsWith("push_"));
    assert.deepEqual(richAfter, richBefore);
    for (const i of [0, 2])
      assert.ok(!(await pgs[i]!.groups()).some((g) => g.labels.job === "rich" || g.labels.job === "daily"), "no stale copy is left");
  });

  it("(b, c) scale-up from 3 to 4: each group ends once, on its owner, with its latest value", async () => {
    const fourth = await Pushgateway.start();
    pgs.push(fourth);
    const poller = new DuplicatePoller(pgs, JOB).start();
    const t0 = performance.now();
    await app.stop(); // dyshard is stateless: scaling up is a restart with one more upstream, at the end
    app = await startDyshard(
      pgs.map((p) => p.url),
      { rebalanceInterval: "0", rebalanceSettle: "300ms", listen: app.url.replace("http://", "") },
    );
    const ids = Array.from({ length: N }, (_, i) => i);
    await inParallel(ids, 20, async (i) => {
      assert.equal((await push(app.url, path(i), "v 5\n")).status, 200);
      latest.set(`host-${i}`, "5");
    });
    await waitFor("convergence after scale-up", () => converged(app, pgs, latest), 20_000, 20);
    const ms = performance.now() - t0;
    await poller.stop();
    process.stdout.write(
      `# scale-up 3 to 4: converged in ${ms.toFixed(0)} ms (restart, ${N} pushes, 300 ms settle, move); poller saw duplicates in ${poller.pollsWithDuplicates}/${poller.polls} polls, at most ${poller.maxDuplicates} groups at once\n`,
    );
    const onFourth = [...(await snapshot(pgs)).values()].filter((e) => e.on[0] === 3).length;
    assert.ok(onFourth > N / 4 - N / 10, `${onFourth} groups moved to the new instance`);
    const daily = await snapshot(pgs, "daily");
    assert.deepEqual(daily.get(dailyInstance), { on: [3], value: "42" });
  });

  it("rebalance endpoint and CLI-style dry run: a misplaced group is planned, then moved, and a second run finds nothing", async () => {
    // Put a group on the wrong instance by hand, as a dyshard with another view would have.
    const owner = app.membership.owner(key("stray"))!.slot;
    const wrong = (owner + 1) % pgs.length;
    assert.equal((await push(pgs[wrong]!.url, path(-1).replace("host--1", "stray"), "v 9\n")).status, 200);
    const dry = (await (await fetch(`${app.url}/-/dyshard/rebalance?dry_run=1`, { method: "POST" })).json()) as {
      misplaced: number;
      steps: { action: string; owner: string; from: string[] }[];
    };
    assert.equal(dry.misplaced, 1);
    assert.deepEqual(dry.steps[0], { ...dry.steps[0], action: "copy", owner: pgs[owner]!.url, from: [pgs[wrong]!.url] });
    assert.ok(
      (await pgs[wrong]!.groups()).some((g) => g.labels.instance === "stray"),
      "a dry run changes nothing",
    );
    const res = await fetch(`${app.url}/-/dyshard/rebalance`, { method: "POST" });
    assert.equal(res.status, 200);
    const applied = (await res.json()) as { copied: number; deleted: number; failed: number };
    assert.deepEqual([applied.copied, applied.deleted, applied.failed], [1, 1, 0]);
    latest.set("stray", "9");
    assert.ok(await converged(app, pgs, latest));
    const again = (await (await fetch(`${app.url}/-/dyshard/rebalance`, { method: "POST" })).json()) as { misplaced: number };
    assert.equal(again.misplaced, 0);
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    assert.match(metrics, /^dyshard_handover_groups_copied_total [1-9]/m);
    assert.match(metrics, /^dyshard_handover_groups_deleted_total\{via="sweep"\} [1-9]/m);
    assert.match(metrics, /^dyshard_handover_misplaced_groups 0$/m);
    assert.match(metrics, /^dyshard_handover_last_run_duration_seconds \d/m);
  });
});

describe("handover onto Pushgateways run with --push.disable-consistency-check (they answer pushes 202)", () => {
  it("moves 30 misplaced groups in one run: none failed, each once on its owner with its value", async () => {
    const pgs = await startPushgateways(3, ["--push.disable-consistency-check"]);
    const app = await startDyshard(
      pgs.map((p) => p.url),
      { rebalanceInterval: "0", rebalanceSettle: "1h" },
    );
    try {
      const expected = new Map<string, string>();
      for (let i = 0; i < 30; i++) {
        const owner = app.membership.owner(key(`nocheck-${i}`))!.slot;
        const res = await push(pgs[(owner + 1) % 3]!.url, path(-1).replace("host--1", `nocheck-${i}`), `v ${i}\n`);
        assert.equal(res.status, 202);
        expected.set(`nocheck-${i}`, String(i));
      }
      await waitFor("the pushes applied", async () => (await snapshot(pgs)).size === 30);
      const report = (await (await fetch(`${app.url}/-/dyshard/rebalance`, { method: "POST" })).json()) as Record<string, unknown>;
      assert.deepEqual([report.copied, report.deleted, report.failed], [30, 30, 0], JSON.stringify(report));
      assert.ok(await converged(app, pgs, expected));
    } finally {
      await app.stop();
      await stopAll(pgs);
    }
  });
});
