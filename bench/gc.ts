// The "gc" scenario: the GC pattern of bench/README.md ("The GC pattern: cause and cure") provoked
// on purpose, to show whether the push path can still fall into it. Each of BENCH_GC_RUNS runs starts
// a dyshard (default engine) with --min-semi-space-size=8 and V8's GC trace, puts two busy loops
// beside it (the contention under which the pattern was seen), drives the sink scenario's load at
// saturation, and reads the trace of the timed part: the share of the young generation that
// survives a scavenge, what is promoted, and the Mark-Compacts. A run whose scavenges keep more than
// 5% is in the pattern (healthy runs keep 1–2%; runs in it 13–17%).
import autocannon from "autocannon";
import { spawn } from "node:child_process";
import { startDyshard, startSink, type Upstreams } from "./fronts.js";
import { CONNECTIONS, REQUESTS } from "./load.js";

const RUNS = Number(process.env.BENCH_GC_RUNS ?? 6);
const WARM_S = 3;
const TIMED_S = 6;
const STUCK_SURVIVAL = 0.05;
export const GC_FLAGS = ["--min-semi-space-size=8", "--trace-gc", "--trace-gc-nvp"];

export interface GcRun {
  pushes: number;
  scavenges: number;
  survived_pct: number;
  promoted_mib: number;
  mark_compacts: number;
  in_pattern: boolean;
}

export interface GcResult {
  flags: string[];
  warm_s: number;
  timed_s: number;
  /** Survival above this share of the young generation: in the pattern. */
  pattern_pct: number;
  runs: GcRun[];
  in_pattern: number;
}

interface TraceLine {
  at: number;
  kind: string;
  allocated: number;
  survived: number;
  promoted: number;
}

/** One `--trace-gc-nvp` line: "[pid:isolate]  1234 ms: pause=... gc=s ... allocated=N promoted=N new_space_survived=N". */
export function parseTraceLine(line: string): TraceLine | undefined {
  const at = /\s(\d+) ms: /.exec(line);
  const kind = /\sgc=(\w+)/.exec(line);
  if (!at || !kind) return undefined;
  const field = (name: string) => Number(new RegExp(`\\s${name}=(\\d+)`).exec(line)?.[1] ?? 0);
  return {
    at: Number(at[1]),
    kind: kind[1] as string,
    allocated: field("allocated"),
    survived: field("new_space_survived"),
    promoted: field("promoted"),
  };
}

function busyLoop(seconds: number) {
  return spawn(process.execPath, ["-e", `const end = Date.now() + ${seconds * 1000}; while (Date.now() < end) {}`], { stdio: "ignore" });
}

async function oneRun(sink: Upstreams): Promise<GcRun> {
  let trace = "";
  const traced = () =>
    trace
      .split("\n")
      .map(parseTraceLine)
      .filter((l): l is TraceLine => l !== undefined);
  const front = await startDyshard(sink, { nodeFlags: GC_FLAGS, onStdout: (t) => (trace += t) });
  if ("skipped" in front) throw new Error(front.skipped);
  const loops = [0, 1].map(() => busyLoop(WARM_S + TIMED_S + 2));
  try {
    await autocannon({ url: front.url, connections: CONNECTIONS, duration: WARM_S, requests: REQUESTS });
    const from = traced().at(-1)?.at ?? 0;
    const r = await autocannon({ url: front.url, connections: CONNECTIONS, duration: TIMED_S, requests: REQUESTS });
    const lines = traced().filter((l) => l.at > from);
    const scavenges = lines.filter((l) => l.kind === "s");
    const allocated = scavenges.reduce((n, l) => n + l.allocated, 0);
    const survived = scavenges.reduce((n, l) => n + l.survived, 0);
    const share = allocated ? survived / allocated : 0;
    return {
      pushes: r.requests.total,
      scavenges: scavenges.length,
      survived_pct: Math.round(share * 1000) / 10,
      promoted_mib: Math.round((scavenges.reduce((n, l) => n + l.promoted, 0) / 2 ** 20) * 10) / 10,
      mark_compacts: lines.filter((l) => l.kind === "mc").length,
      in_pattern: share > STUCK_SURVIVAL,
    };
  } finally {
    for (const l of loops) l.kill("SIGKILL");
    await front.stop();
  }
}

export async function gc(): Promise<GcResult> {
  const sink = await startSink(3);
  const runs: GcRun[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const run = await oneRun(sink);
      runs.push(run);
      process.stdout.write(
        `[gc] run ${i + 1}/${RUNS}: ${run.pushes} pushes, ${run.scavenges} scavenges, ${run.survived_pct}% survived, ${run.promoted_mib} MiB promoted, ${run.mark_compacts} Mark-Compacts${run.in_pattern ? " (IN THE PATTERN)" : ""}\n`,
      );
    }
  } finally {
    await sink.stop();
  }
  return {
    flags: GC_FLAGS,
    warm_s: WARM_S,
    timed_s: TIMED_S,
    pattern_pct: STUCK_SURVIVAL * 100,
    runs,
    in_pattern: runs.filter((r) => r.in_pattern).length,
  };
}
