// The handover under many triggers at once, a hung instance and a stop: concurrent callers share
// at most one queued run and are all answered, a hung inventory is bounded by the upstream
// timeout and does not set runs going back to back, and a stop abandons a hung run within
// --shutdown-timeout. Runs are counted as the Pushgateway itself counts them: every run reads
// GET /api/v1/metrics of each healthy instance once (nothing is misplaced here, so nothing more).
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { RunReport } from "../../src/handover/run-report.js";
import { routingKey } from "../../src/pushgateway/grouping-key.js";
import { loadHash64 } from "../../src/routing/hash.js";
import { Ring } from "../../src/routing/ring.js";
import { spawnDyshard, timeSigterm, startDyshard } from "../support/dyshard.js";
import { waitFor } from "../support/ports.js";
import { startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";
import { freeze, thaw } from "../support/freeze.js";

type App = Awaited<ReturnType<typeof startDyshard>>;

/** How many inventories (GET /api/v1/metrics) this instance has answered. */
async function inventories(pg: Pushgateway): Promise<number> {
  const text = await (await fetch(`${pg.url}/metrics`)).text();
  return Number(/^pushgateway_http_requests_total\{code="200",handler="api\/v1\/metrics",method="get"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

async function runsCounted(app: App): Promise<number> {
  return Number(/^dyshard_handover_runs_total (\d+)$/m.exec(await (await fetch(`${app.url}/metrics`)).text())?.[1]);
}

/** The inventory count once no run has read it for 500 ms (start-up and the first health verdicts trigger runs too). */
async function quiet(pg: Pushgateway): Promise<number> {
  let seen = await inventories(pg);
  for (let i = 0; i < 10; i++) {
    await sleep(500);
    const now = await inventories(pg);
    if (now === seen) return now;
    seen = now;
  }
  throw new Error("the handover never went quiet");
}

const pause = (pg: Pushgateway) => freeze(pg.pid as number);
const resume = (pg: Pushgateway) => thaw(pg.pid as number);

/** A caller's answer: its status and whether it was a dry run, or "no answer" within `ms`. */
type Answer = { status: number; dry: boolean } | "no answer";
async function rebalance(url: string, dry: boolean, ms = 5000): Promise<Answer> {
  try {
    const res = await fetch(`${url}/-/dyshard/rebalance${dry ? "?dry_run=1" : ""}`, { method: "POST", signal: AbortSignal.timeout(ms) });
    return { status: res.status, dry: ((await res.json()) as RunReport).dry_run };
  } catch {
    return "no answer";
  }
}
function direct(app: App, dry: boolean, ms = 5000): Promise<Answer> {
  const late = sleep(ms).then(() => "no answer" as const);
  return Promise.race([app.handover.run({ dryRun: dry }).then((r) => ({ status: 200, dry: r.dry_run })), late]);
}

describe("handover triggers", () => {
  let pgs: Pushgateway[];
  let app: App | undefined;
  before(async () => {
    pgs = await startPushgateways(2);
  });
  // A test that failed left its dyshard running: stopped here, or its timers would keep the file from ending.
  afterEach(async () => {
    for (const pg of pgs ?? []) if (pg.pid) await resume(pg);
    await Promise.race([app?.stop(), sleep(3000)]);
    app = undefined;
  });
  after(async () => stopAll(pgs ?? []));

  it("30 callers arriving during a run (10 POST, 10 POST dry runs, 10 direct) are all answered, by 2 more runs at most, and no run follows in the next 1 s", async () => {
    app = await startDyshard(
      pgs.map((p) => p.url),
      { rebalanceInterval: "0", rebalanceSettle: "50ms", healthFall: "10" },
    );
    await waitFor("the start-up run", async () => (await inventories(pgs[1]!)) >= 1);
    const base = await quiet(pgs[1]!);
    const counted = await runsCounted(app);
    // The first run hangs in the inventory of the paused instance, so every other caller arrives during it.
    await pause(pgs[0]!);
    let answers: Promise<Answer[]>;
    try {
      const first = direct(app, false);
      await sleep(100);
      const calls = [
        ...Array.from({ length: 10 }, () => rebalance(app!.url, false)),
        ...Array.from({ length: 10 }, () => rebalance(app!.url, true)),
        ...Array.from({ length: 10 }, (_, i) => direct(app!, i % 2 === 0)),
      ];
      answers = Promise.all([first, ...calls]);
      await sleep(300);
    } finally {
      await resume(pgs[0]!);
    }
    const got = await answers;
    const runs = (await inventories(pgs[1]!)) - base;
    await sleep(1000);
    const later = (await inventories(pgs[1]!)) - base - runs;
    const answered = got.filter((a) => a !== "no answer").length;
    process.stdout.write(`# 31 concurrent triggers: ${answered}/31 answered, ${runs} runs for them, ${later} runs in the 1 s after\n`);
    assert.equal(answered, 31, "every caller is answered");
    assert.ok(got.every((a) => a !== "no answer" && a.status === 200));
    assert.deepEqual(
      got.map((a) => a !== "no answer" && a.dry),
      [false, ...Array(10).fill(false), ...Array(10).fill(true), ...Array.from({ length: 10 }, (_, i) => i % 2 === 0)],
      "each caller gets a report of its kind",
    );
    assert.equal(runs, 3, "the held run, then one queued run and one queued dry run");
    assert.equal(later, 0, "no run after the callers are answered");
    assert.equal((await runsCounted(app)) - counted, 2, "dyshard_handover_runs_total counts the runs that act, not the dry one");
    await app.stop();
    app = undefined;
  });

  it("an instance paused for 2.5 s across a 300 ms sweep: a rebalance meanwhile answers within 2 upstream timeouts + 1 s, naming it; then runs follow the sweep (at most 9 in 2 s)", async () => {
    app = await startDyshard(
      pgs.map((p) => p.url),
      { rebalanceInterval: "300ms", rebalanceSettle: "100ms", upstreamTimeout: "1s", healthFall: "3", healthRise: "1" },
    );
    await sleep(500);
    await pause(pgs[0]!);
    let report: RunReport | undefined;
    let ms = 0;
    try {
      const t0 = performance.now();
      const res = await fetch(`${app.url}/-/dyshard/rebalance`, { method: "POST", signal: AbortSignal.timeout(5000) }).catch(
        () => undefined,
      );
      report = (await res?.json().catch(() => undefined)) as RunReport | undefined;
      ms = performance.now() - t0;
      await sleep(Math.max(0, 2500 - ms));
    } finally {
      await resume(pgs[0]!);
    }
    await waitFor("the paused instance back on the ring", async () => app!.membership.healthyCount() === 2);
    await sleep(500);
    const base = await inventories(pgs[1]!);
    await sleep(2000);
    const runs = (await inventories(pgs[1]!)) - base;
    process.stdout.write(
      `# paused instance across the sweep: rebalance answered in ${ms.toFixed(0)} ms; ${runs} runs in the 2 s after it came back (sweep every 300 ms)\n`,
    );
    assert.ok(report, "the rebalance is answered");
    assert.ok(ms < 3000, `answered in ${ms.toFixed(0)} ms`);
    assert.ok(report.duration_ms < 1500, `the run took ${report.duration_ms} ms`);
    assert.ok(!report.inventoried.includes(pgs[0]!.url), "the paused instance was not read");
    assert.ok(runs <= 9, `${runs} runs in 2 s`);
    await app.stop();
    app = undefined;
  });

  it("stop() abandons a run hung in an inventory within --shutdown-timeout 1s (+0.5 s); its caller is answered, a queued caller is told dyshard is stopping, and nothing runs after", async () => {
    app = await startDyshard(
      pgs.map((p) => p.url),
      { rebalanceInterval: "0", rebalanceSettle: "50ms", shutdownTimeout: "1s", healthFall: "10" },
    );
    await waitFor("the start-up run", async () => (await inventories(pgs[1]!)) >= 1);
    await quiet(pgs[1]!); // so that the run below is the one in progress, not queued behind start-up's
    await pause(pgs[0]!);
    try {
      const hung = app.handover.run().then(
        (r) => r,
        (e: Error) => e,
      );
      await sleep(100);
      const queued = app.handover.run().then(
        (r) => r,
        (e: Error) => e,
      );
      const t0 = performance.now();
      const stopped = await Promise.race([app.stop().then(() => true), sleep(5000).then(() => false)]);
      const ms = performance.now() - t0;
      const base = await inventories(pgs[1]!);
      process.stdout.write(
        `# stop with a run hung in an inventory: ${stopped ? `stopped in ${ms.toFixed(0)} ms` : "not stopped within 5 s"}\n`,
      );
      assert.ok(stopped && ms < 1500, `stopped in ${ms.toFixed(0)} ms`);
      const first = await Promise.race([hung, sleep(500).then(() => "no answer" as const)]);
      assert.notEqual(first, "no answer", "the hung run's caller is answered");
      const second = await Promise.race([queued, sleep(500).then(() => "no answer" as const)]);
      assert.ok(second instanceof Error && /stopping/.test(second.message), String(second));
      await assert.rejects(app.handover.run(), /stopping/);
      await sleep(300);
      assert.equal((await inventories(pgs[1]!)) - base, 0, "no run after stop");
    } finally {
      await resume(pgs[0]!);
    }
    app = undefined;
  });

  it("SIGTERM with --shutdown-timeout 1s ends the process within 3 s while rebalances and a push hang on a paused instance", async () => {
    const d = await spawnDyshard(["--shutdown-timeout", "1s", "--rebalance-interval", "0", ...pgs.flatMap((p) => ["--upstream", p.url])]);
    try {
      const h64 = await loadHash64();
      let instance = "";
      for (let i = 0; instance === ""; i++)
        if (new Ring(["healthy", "healthy"], h64).owner(routingKey({ job: "hang", labels: { instance: `i${i}` } })) === 0)
          instance = `i${i}`;
      await sleep(300);
      await pause(pgs[0]!);
      const calls = [
        rebalance(d.url, false, 10_000),
        rebalance(d.url, false, 10_000),
        fetch(`${d.url}/metrics/job/hang/instance/${instance}`, {
          method: "PUT",
          body: "v 1\n",
          signal: AbortSignal.timeout(10_000),
        }).catch(() => undefined),
      ];
      await sleep(300);
      const { code, ms } = await timeSigterm(d, "with a hung run and push");
      assert.notEqual(code, "still running");
      assert.ok(ms < 3000, `exited in ${ms.toFixed(0)} ms`);
      await Promise.all(calls);
    } finally {
      await resume(pgs[0]!);
      await d.stop("SIGKILL");
    }
  });

  it("with --workers 2, a rebalance queued when SIGTERM comes is answered 503 saying dyshard is stopping, as in one process", async () => {
    const d = await spawnDyshard([
      "--workers",
      "2",
      "--shutdown-timeout",
      "1s",
      "--rebalance-interval",
      "0",
      ...pgs.flatMap((p) => ["--upstream", p.url]),
    ]);
    try {
      await sleep(500);
      await pause(pgs[0]!);
      const answered = (res: Response) => res.text().then((text) => ({ status: res.status, text }));
      const post = () =>
        fetch(`${d.url}/-/dyshard/rebalance`, { method: "POST", signal: AbortSignal.timeout(10_000) }).then(answered, () => undefined);
      const hung = post();
      await sleep(300);
      const queued = post();
      await sleep(300);
      await timeSigterm(d, "with a hung and a queued rebalance through the workers");
      const [first, second] = await Promise.all([hung, queued]);
      process.stdout.write(`# --workers 2, SIGTERM: hung rebalance ${first?.status ?? "cut"}, queued one ${second?.status ?? "cut"}\n`);
      assert.equal(second?.status, 503, JSON.stringify(second));
      assert.match(second.text, /stopping/);
    } finally {
      await resume(pgs[0]!);
      await d.stop("SIGKILL");
    }
  });
});
