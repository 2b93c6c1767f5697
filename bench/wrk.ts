// The "wrk" scenario: the sink scenario at saturation with another load shape, wrk (C, epoll, one
// thread a core) running bench/wrk-groups.lua: the same 1 KiB PUT body spread over BENCH_WRK_GROUPS
// (default 3,000) distinct groups instead of autocannon's 256. CPU per push as in load.ts.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cpuSeconds, snapshot } from "./cpu.js";
import { chosen, directRow, dyshardRow, ENGINES, nginxRow } from "./front-rows.js";
import { hasBinary, startSink } from "./fronts.js";
import { BODY, CONNECTIONS, DURATION, WARMUP, type LoadResult } from "./load.js";
import { atExit, start } from "./procs.js";
import { inRounds, round, type FrontScenario } from "./rounds.js";
import { ROUNDS } from "./throughput.js";

export const WRK = process.env.BENCH_WRK ?? "wrk";
export const WRK_GROUPS = Number(process.env.BENCH_WRK_GROUPS ?? 3000);
const THREADS = Number(process.env.BENCH_WRK_THREADS ?? availableParallelism());
const SCRIPT = fileURLToPath(new URL("../../bench/wrk-groups.lua", import.meta.url));

interface WrkFigures {
  requests: number;
  duration_us: number;
  p50_us: number;
  p99_us: number;
  connect: number;
  read: number;
  write: number;
  timeout: number;
  status: number;
}

/** One wrk run of `seconds` against `url`, its figures from the script's done(). */
function wrk(url: string, seconds: number, bodyFile: string): Promise<WrkFigures> {
  const args = [
    "-t",
    String(THREADS),
    "-c",
    String(CONNECTIONS),
    "-d",
    `${seconds}s`,
    "-s",
    SCRIPT,
    url,
    "--",
    String(WRK_GROUPS),
    bodyFile,
    String(THREADS),
  ];
  const p = start(WRK, args, { stdout: "pipe" });
  let out = "";
  p.proc.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  const closed = new Promise((resolve) => (p.proc.stdout ? p.proc.stdout.once("close", resolve) : resolve(undefined)));
  return Promise.all([p.exited, closed]).then(([code]) => {
    const line = /^wrk-json (.+)$/m.exec(out)?.[1];
    if (code !== "0" || !line) throw new Error(`wrk exited ${code}: ${`${out}${p.stderr()}`.trim().split("\n").slice(-3).join(" / ")}`);
    return JSON.parse(line) as WrkFigures;
  });
}

async function driveWrk(url: string, pid: number | undefined, bodyFile: string): Promise<LoadResult> {
  if (WARMUP > 0) await wrk(url, WARMUP, bodyFile);
  const before = pid === undefined ? undefined : snapshot(pid);
  const r = await wrk(url, DURATION, bodyFile);
  const cpu = pid === undefined || before === undefined ? null : cpuSeconds(before, snapshot(pid));
  return {
    requests: r.requests,
    requests_per_second: Math.round(r.requests / (r.duration_us / 1e6)),
    p50_ms: round(r.p50_us / 1000),
    p99_ms: round(r.p99_us / 1000),
    cpu_s: cpu === null ? null : Math.round(cpu * 1000) / 1000,
    cpu_us_per_request: cpu === null || r.requests === 0 ? null : Math.round((cpu * 1e7) / r.requests) / 10,
    errors: r.connect + r.read + r.write + r.timeout,
    non_2xx: r.status,
  };
}

export async function wrkScenario(): Promise<FrontScenario> {
  const log = (s: string) => process.stdout.write(`[wrk] ${s}\n`);
  const upstream = "3 sink ports (one process, reads the body, answers 200)";
  const load = `wrk, ${THREADS} threads, ${CONNECTIONS} connections, bench/wrk-groups.lua: the same ${Buffer.byteLength(BODY)}-byte PUT body over ${WRK_GROUPS.toLocaleString("en-US")} groups`;
  if (!hasBinary(WRK)) {
    const note = `${WRK} not installed (apt-get install -y wrk): scenario skipped`;
    log(note);
    return { scenario: "wrk", upstream, load, rows: [], notes: [note] };
  }
  const dir = mkdtempSync(join(tmpdir(), "dyshard-bench-wrk-"));
  const onExit = atExit(() => rmSync(dir, { recursive: true, force: true }));
  const bodyFile = join(dir, "body");
  writeFileSync(bodyFile, BODY);
  const upstreams = await startSink(3);
  const fronts = [directRow(upstreams, "sink (reference)"), nginxRow(upstreams, 1), ...ENGINES.map((e) => dyshardRow(upstreams, e))];
  try {
    const { rows, notes } = await inRounds(chosen(fronts), ROUNDS, (f) => driveWrk(f.url, f.pid, bodyFile), log);
    return { scenario: "wrk", upstream, load, rows, notes };
  } finally {
    await upstreams.stop();
    rmSync(dir, { recursive: true, force: true });
    onExit.forget();
  }
}
