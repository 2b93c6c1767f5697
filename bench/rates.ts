// The "rates" scenario: pushes at fixed rates (BENCH_RATES, default 200, 1,000, 5,000 a second,
// paced: see paced.ts) into the sink and through 3 real Pushgateways, each front in turn at each
// rate: CPU per push of the front, and the rate it achieved (a front that could not hold the rate
// is marked so). Every rate runs at least BENCH_RATE_MIN_PUSHES pushes (default 4,000: 20 s at
// 200/s), so that the front's CPU spans enough 10 ms ticks. Each front is first warmed up at
// saturation (BENCH_RATE_WARMUP s, default 4), then at the rate (BENCH_WARMUP s): a long-running
// front has long had its code optimized, and 400 pushes at 200/s leave most of a Node front's push
// path unoptimized (bench/README.md, "At fixed rates").
import autocannon from "autocannon";
import { cpuSeconds, snapshot } from "./cpu.js";
import { chosen, dyshardRow, ENGINES, nginxRow, type FrontSpec, type RowTags } from "./front-rows.js";
import { hasBinary, startPushgateways, startSink, type FrontOrSkip } from "./fronts.js";
import { CONNECTIONS, DURATION, REQUESTS, WARMUP } from "./load.js";
import { paced, pacedPool } from "./paced.js";
import { round } from "./rounds.js";
import { PUSHGATEWAY_MISSING } from "./throughput.js";

export const RATES = (process.env.BENCH_RATES ?? "200,1000,5000").split(",").map(Number);
const MIN_PUSHES = Number(process.env.BENCH_RATE_MIN_PUSHES ?? 4000);
const SATURATED_WARMUP = Number(process.env.BENCH_RATE_WARMUP ?? 4);
/** A front holds a rate when it answers at least this share of it. */
export const HELD = 0.95;

export interface RateRow extends RowTags {
  upstream: "sink" | "pushgateway";
  rate: number;
  front: string;
  skipped?: string;
  seconds?: number;
  requests?: number;
  achieved_per_second?: number;
  held?: boolean;
  missed?: number;
  p50_ms?: number;
  p99_ms?: number;
  cpu_s?: number;
  cpu_us_per_request?: number | null;
  cpu_ratio_nginx_1w?: number | null;
  errors?: number;
  non_2xx?: number;
}

export interface RatesResult {
  rates: number[];
  rows: RateRow[];
  notes: string[];
}

async function rateRow(upstream: RateRow["upstream"], rate: number, f: FrontSpec, notes: string[]): Promise<RateRow> {
  const row: RateRow = { upstream, rate, front: f.name, ...f.tags };
  let front: FrontOrSkip;
  try {
    front = await f.start();
  } catch (err) {
    notes.push(`${f.name} failed to start: ${(err as Error).message.split("\n")[0]}`);
    return { ...row, skipped: "failed to start" };
  }
  if ("skipped" in front) {
    const note = front.detail ?? front.skipped;
    if (!notes.includes(note)) notes.push(note);
    return { ...row, skipped: front.skipped };
  }
  const pool = pacedPool(front.url);
  try {
    if (SATURATED_WARMUP > 0)
      await autocannon({ url: front.url, connections: CONNECTIONS, duration: SATURATED_WARMUP, requests: REQUESTS });
    if (WARMUP > 0) await paced(pool, rate, WARMUP);
    const seconds = Math.max(DURATION, MIN_PUSHES / rate);
    const before = snapshot(front.pid as number);
    const r = await paced(pool, rate, seconds);
    const cpu = cpuSeconds(before, snapshot(front.pid as number));
    const achieved = r.requests / r.elapsed_s;
    return {
      ...row,
      front: front.name,
      seconds,
      requests: r.requests,
      achieved_per_second: Math.round(achieved),
      held: achieved >= HELD * rate && r.errors === 0,
      missed: r.missed,
      p50_ms: r.p50_ms,
      p99_ms: r.p99_ms,
      cpu_s: Math.round(cpu * 1000) / 1000,
      cpu_us_per_request: r.requests ? Math.round((cpu * 1e7) / r.requests) / 10 : null,
      errors: r.errors,
      non_2xx: r.non_2xx,
    };
  } catch (err) {
    notes.push(`${front.name} at ${rate}/s failed: ${(err as Error).message}`);
    return { ...row, skipped: "failed" };
  } finally {
    await pool.destroy();
    await front.stop();
  }
}

function setRatios(rows: RateRow[]): void {
  const nginx1 = rows.find((r) => r.front === "nginx 1 worker" && !r.skipped);
  for (const r of rows)
    if (!r.skipped)
      r.cpu_ratio_nginx_1w =
        r.cpu_us_per_request && nginx1?.cpu_us_per_request ? round(r.cpu_us_per_request / nginx1.cpu_us_per_request) : null;
}

export async function rates(): Promise<RatesResult> {
  const rows: RateRow[] = [];
  const notes: string[] = [];
  const log = (s: string) => process.stdout.write(`[rates] ${s}\n`);
  for (const upstream of ["sink", "pushgateway"] as const) {
    if (upstream === "pushgateway" && !hasBinary("prometheus-pushgateway")) {
      notes.push(PUSHGATEWAY_MISSING.replace("scenario", "Pushgateway rows"));
      log(notes.at(-1) as string);
      continue;
    }
    const upstreams = upstream === "sink" ? await startSink(3) : await startPushgateways(3);
    try {
      const fronts = chosen([nginxRow(upstreams, 1), ...ENGINES.map((e) => dyshardRow(upstreams, e))]);
      // Rate by rate, every front in turn: the figures a goal compares are taken minutes apart at most.
      for (const rate of RATES) {
        const atRate: RateRow[] = [];
        for (const f of fronts) {
          const r = await rateRow(upstream, rate, f, notes);
          atRate.push(r);
          log(
            r.skipped
              ? `${upstream} ${rate}/s ${r.front}: ${r.skipped}`
              : `${upstream} ${rate}/s ${r.front}: achieved ${r.achieved_per_second}/s${r.held ? "" : " (NOT HELD)"}, missed ${r.missed}, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, CPU ${r.cpu_s} s = ${r.cpu_us_per_request ?? "–"} µs/push, errors ${r.errors}, non-2xx ${r.non_2xx}`,
          );
        }
        setRatios(atRate);
        rows.push(...atRate);
      }
    } finally {
      await upstreams.stop();
    }
  }
  return { rates: RATES, rows, notes };
}
