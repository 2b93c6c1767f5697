// The "sweep" scenario: what one handover run costs over three real Pushgateways as they hold more
// groups (BENCH_SWEEP_GROUPS, default 10000,50000,100000, grown in place): the run's time with
// nothing to move, dyshard's CPU for it and its peak RSS (VmHWM, reset before each run through
// /proc/PID/clear_refs), then the same with 1% of the groups also pushed to the two other instances
// (newer copies there: each is copied to its owner and two stale copies deleted).
import { Agent, request } from "undici";
import { cpuSeconds, snapshot, statusBytes } from "./cpu.js";
import { startDyshard, startPushgateways, type Front, type Upstreams } from "./fronts.js";
import { writeFileSync } from "node:fs";
import type { RunReport } from "../src/handover/run-report.js";

export const SWEEP_GROUPS = (process.env.BENCH_SWEEP_GROUPS ?? "10000,50000,100000").split(",").map(Number);
/** A batch job's usual push: two gauges. */
const BODY =
  "# TYPE job_duration_seconds gauge\njob_duration_seconds 12.5\n# TYPE job_last_success_unixtime gauge\njob_last_success_unixtime 1.7e9\n";

export interface SweepRun {
  kind: "no-op" | "1% misplaced";
  groups: number;
  misplaced: number;
  run_ms: number;
  cpu_s: number;
  peak_rss_mib: number;
  moved: number;
  deleted: number;
  failed: number;
}

export interface SweepResult {
  rows: SweepRun[];
  /** Run time per 1,000 groups of each no-op run: flat when the sweep is linear. */
  ms_per_1k_groups: number[];
  idle_rss_mib: number;
}

const path = (i: number) => `/metrics/job/sweep/instance/host-${i}`;
const mib = (b: number | undefined) => Math.round(((b ?? 0) / 1048576) * 10) / 10;

export async function sweep(): Promise<SweepResult> {
  // A Pushgateway checks every push against every group it holds (seeding 100k groups would take
  // half an hour here): the sweep's instances skip the check. A no-op run pushes nothing; the copies
  // of the 1% run are that much cheaper than on a checking instance (bench/README.md, "sweep").
  const pgs = await startPushgateways(3, ["--push.disable-consistency-check"]);
  const started = await startDyshard(pgs, {
    engine: "native",
    // Only the runs measured; the rest at its defaults (a sweep of 100k groups must work out of the box).
    extra: ["--rebalance-settle", "1h", "--rebalance-interval", "0"],
    name: "dyshard (sweep)",
  });
  if ("skipped" in started) throw new Error(started.skipped);
  const dyshard: Front = started;
  const agent = new Agent({ connections: 32 });
  try {
    const rows: SweepRun[] = [];
    let have = 0;
    const idle = statusBytes(dyshard.pid as number, "VmRSS");
    for (const n of SWEEP_GROUPS) {
      await pushAll(dyshard.url, have, n, agent);
      await held(pgs, n);
      have = n;
      rows.push(await oneRun(dyshard, "no-op", n));
      const misplaced = Array.from({ length: Math.floor(n / 100) }, (_, k) => k * 100);
      await misplace(pgs, misplaced, agent);
      await new Promise((r) => setTimeout(r, 2000)); // applied after their 202
      rows.push(await oneRun(dyshard, "1% misplaced", n));
      process.stdout.write(
        `[sweep] ${n} groups: ${rows
          .slice(-2)
          .map((r) => `${r.kind} ${r.run_ms} ms`)
          .join(", ")}\n`,
      );
    }
    const noop = rows.filter((r) => r.kind === "no-op");
    return { rows, ms_per_1k_groups: noop.map((r) => Math.round((r.run_ms / r.groups) * 1000 * 10) / 10), idle_rss_mib: mib(idle) };
  } finally {
    await agent.close();
    await dyshard.stop();
    await pgs.stop();
  }
}

/** Groups [from, to) pushed through dyshard (so each lands on its owner), 32 at a time. */
async function pushAll(base: string, from: number, to: number, agent: Agent): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < to) {
        const res = await request(base + path(next++), { method: "PUT", body: BODY, dispatcher: agent });
        await res.body.dump();
        if (res.statusCode !== 200 && res.statusCode !== 202) throw new Error(`seeding answered ${res.statusCode}`);
      }
    }),
  );
}

/** Waits until the instances hold `n` groups: without the check a push is answered 202 and applied a moment later. */
async function held(pgs: Upstreams, n: number): Promise<void> {
  for (let tries = 0; tries < 120; tries++) {
    const counts = await Promise.all(
      pgs.urls.map(async (url) => {
        const text = await (await request(`${url}/metrics`)).body.text();
        return text.split("\npush_time_seconds{").length - 1;
      }),
    );
    if (counts.reduce((a, b) => a + b, 0) >= n) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`the instances never held ${n} groups`);
}

/** The same groups pushed again straight to every instance: two newer stale copies each. */
async function misplace(pgs: Upstreams, ids: number[], agent: Agent): Promise<void> {
  const targets = pgs.urls.flatMap((url) => ids.map((i) => url + path(i)));
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < targets.length) {
        const res = await request(targets[next++] as string, { method: "PUT", body: BODY, dispatcher: agent });
        await res.body.dump();
      }
    }),
  );
}

async function oneRun(dyshard: Front, kind: SweepRun["kind"], groups: number): Promise<SweepRun> {
  const pid = dyshard.pid as number;
  writeFileSync(`/proc/${pid}/clear_refs`, "5"); // VmHWM := VmRSS, so the peak is this run's
  const before = snapshot(pid);
  const t0 = performance.now();
  const res = await request(`${dyshard.url}/-/dyshard/rebalance`, { method: "POST", headersTimeout: 600_000, bodyTimeout: 600_000 });
  const report = (await res.body.json()) as RunReport;
  const runMs = Math.round(performance.now() - t0);
  if (report.groups !== groups) throw new Error(`the run saw ${report.groups} groups, not ${groups}: ${report.errors.join("; ")}`);
  return {
    kind,
    groups,
    misplaced: report.misplaced,
    run_ms: runMs,
    cpu_s: Math.round(cpuSeconds(before, snapshot(pid)) * 100) / 100,
    peak_rss_mib: mib(statusBytes(pid, "VmHWM")),
    moved: report.copied + report.merged,
    deleted: report.deleted,
    failed: report.failed,
  };
}
