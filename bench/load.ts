// The load, identical for every row: autocannon, 50 connections, 1 KiB PUT bodies (valid exposition
// text, so real Pushgateways answer 200) over 256 groups, a warm-up and then a fixed duration; the
// front's CPU (all its processes, from /proc) is taken over the timed run only.
import autocannon from "autocannon";
import { cpuSeconds, snapshot } from "./cpu.js";

export const DURATION = Number(process.env.BENCH_DURATION ?? 10);
export const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
export const GROUPS = 256;
export const BODY_BYTES = 1024;

/** 40 gauge series of one family, padded in the HELP text to exactly 1 KiB. */
function exposition(): string {
  const lines = Array.from({ length: 40 }, (_, i) => `bench_g{i="${String(i).padStart(2, "0")}"} ${(i * 12.5).toFixed(1)}\n`).join("");
  const head = "# HELP bench_g A gauge pushed by the dyshard benchmark";
  const type = "# TYPE bench_g gauge\n";
  const pad = BODY_BYTES - head.length - 1 - type.length - lines.length;
  if (pad < 0) throw new Error("benchmark body exceeds 1 KiB");
  return `${head}${".".repeat(pad)}\n${type}${lines}`;
}
export const BODY = exposition();

export const CONTENT_TYPE = "text/plain; version=0.0.4";
export const groupPath = (i: number) => `/metrics/job/bench/instance/host-${i}`;

export const REQUESTS = Array.from({ length: GROUPS }, (_, i) => ({
  method: "PUT" as const,
  path: groupPath(i),
  body: BODY,
  headers: { "content-type": CONTENT_TYPE },
}));

export interface LoadResult {
  requests: number;
  requests_per_second: number;
  p50_ms: number;
  p99_ms: number;
  /** CPU seconds of the front over the timed run, null with no front. */
  cpu_s: number | null;
  cpu_us_per_request: number | null;
  errors: number;
  non_2xx: number;
  /** Requests the upstreams got per push served, when the run could count them (the sink can). */
  upstream_requests_per_push?: number;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * Warm-up, then the timed run against `url`; `pid` is the front's root process. `upstreamCount`
 * (the requests the upstreams got so far) gives the row its upstream requests per push.
 */
export async function drive(url: string, pid: number | undefined, upstreamCount?: () => Promise<number>): Promise<LoadResult> {
  if (WARMUP > 0) await autocannon({ url, connections: CONNECTIONS, duration: WARMUP, requests: REQUESTS });
  const upstreamBefore = await upstreamCount?.();
  const before = pid === undefined ? undefined : snapshot(pid);
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, requests: REQUESTS });
  const cpu = pid === undefined || before === undefined ? null : cpuSeconds(before, snapshot(pid));
  const total = r.requests.total;
  const upstream = upstreamBefore === undefined || !upstreamCount ? undefined : (await upstreamCount()) - upstreamBefore;
  return {
    requests: total,
    requests_per_second: Math.round(total / r.duration),
    p50_ms: round(r.latency.p50),
    p99_ms: round(r.latency.p99),
    cpu_s: cpu === null ? null : round(cpu, 3),
    cpu_us_per_request: cpu === null || total === 0 ? null : round((cpu * 1e6) / total, 1),
    errors: r.errors,
    non_2xx: r.non2xx,
    ...(upstream === undefined || total === 0 ? {} : { upstream_requests_per_push: round(upstream / total) }),
  };
}
