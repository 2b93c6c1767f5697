// `npm run bench`: the benchmark of the "Performance" issue. Scenarios (all by default, in this order):
//   micro        the route decision in-process (parse + hash + jump), ns per push
//   sink         the same load through each front, 3 sink upstreams: direct, nginx 1 and N workers,
//                dyshard --engine undici / native / http-proxy, dyshard --workers N
//   wrk          the sink at saturation again, driven by wrk (bench/wrk-groups.lua) over 3,000 groups
//   replicas     dyshard --replicas 2 beside --replicas 1 (each engine), into the sink at saturation
//   pushgateway  the same through 3 real Pushgateways
//   rates        fixed rates (200, 1,000, 5,000 pushes/s, paced) into the sink and through 3
//                Pushgateways: nginx 1 worker and dyshard, CPU per push and the rate achieved
//   memory       200 concurrent 20 MiB streamed pushes through one dyshard, its RSS sampled
//   sweep        one handover run over 3 Pushgateways holding 10k, 50k, 100k groups: time, CPU, peak RSS
//   gc           the GC pattern of bench/README.md provoked (--min-semi-space-size=8, busy loops):
//                BENCH_GC_RUNS short runs, how many fall into it
// Pick some: `npm run bench -- sink micro` or BENCH_SCENARIOS=sink,micro.
// Env: BENCH_DURATION (s per row, default 10), BENCH_WARMUP (s, default 2), BENCH_CONNECTIONS (50),
// BENCH_WORKERS (N, default: CPUs), BENCH_MICRO_N (1e6), BENCH_MEMORY_PUSHES (200),
// BENCH_MEMORY_MIB (20), BENCH_MEMORY_TIMEOUT (s, 150), BENCH_SWEEP_GROUPS (10000,50000,100000), BENCH_NGINX (path, default /usr/sbin/nginx),
// BENCH_FRONTS (only the front rows whose name holds one of these, e.g. nginx,native), BENCH_ROUNDS
// (rounds of the sink, wrk and replicas scenarios, default 3; each figure the median of its rounds),
// BENCH_WRK_GROUPS (3000), BENCH_WRK_THREADS (CPUs), BENCH_WRK (path, default wrk), BENCH_RATES (200,1000,5000),
// BENCH_RATE_MIN_PUSHES (4000: the timed run of a low rate lasts longer than BENCH_DURATION),
// BENCH_RATE_WARMUP (s at saturation before each rate row, 4), BENCH_GC_RUNS (6).
// The default engine's rows run dyshard without --engine (what `dyshard serve` uses then).
// Prints a table per scenario and the goal lines; writes bench/results/latest.{json,md} and a
// timestamped copy. Every child process is killed by PID at the end (also on error or SIGINT).
import { availableParallelism } from "node:os";
import { CLK_TCK } from "./cpu.js";
import { DEFAULT_ENGINE } from "./front-rows.js";
import { nginxVersion, NGINX_MISSING } from "./fronts.js";
import { BODY, CONNECTIONS, DURATION, GROUPS, WARMUP } from "./load.js";
import { MEMORY_ENGINES, memory } from "./memory.js";
import { gc } from "./gc.js";
import { micro } from "./micro.js";
import { killAll } from "./procs.js";
import { RATES, rates } from "./rates.js";
import { replicas } from "./replicas.js";
import { goals, markdown, write, type Results } from "./report.js";
import { sweep } from "./sweep.js";
import { frontScenario } from "./throughput.js";
import { WRK_GROUPS, wrkScenario } from "./wrk.js";

const ALL = ["micro", "sink", "wrk", "replicas", "pushgateway", "rates", "memory", "sweep", "gc"] as const;
type Scenario = (typeof ALL)[number];

const asked = [...process.argv.slice(2), ...(process.env.BENCH_SCENARIOS ?? "").split(",")].map((s) => s.trim()).filter(Boolean);
const unknown = asked.filter((s) => !(ALL as readonly string[]).includes(s));
if (unknown.length) {
  process.stderr.write(`bench: unknown scenario ${unknown.join(", ")} (choose from ${ALL.join(", ")})\n`);
  process.exit(2);
}
const scenarios: Scenario[] = asked.length ? ALL.filter((s) => asked.includes(s)) : [...ALL];
const workers = Number(process.env.BENCH_WORKERS ?? availableParallelism());
const nginx = nginxVersion();

const results: Results = {
  meta: {
    date: new Date().toISOString(),
    scenarios,
    node: process.version,
    cpus: availableParallelism(),
    workers,
    nginx: nginx ?? null,
    clk_tck: CLK_TCK,
    duration_s: DURATION,
    warmup_s: WARMUP,
    connections: CONNECTIONS,
    groups: GROUPS,
    body_bytes: Buffer.byteLength(BODY),
    default_engine: DEFAULT_ENGINE,
    wrk_groups: WRK_GROUPS,
    rates: RATES,
  },
};

const t0 = Date.now();
process.stdout.write(
  `bench: ${scenarios.join(", ")}; ${DURATION} s per row after ${WARMUP} s warm-up, ${CONNECTIONS} connections, N = ${workers} workers\n`,
);
if (!nginx && scenarios.some((s) => ["sink", "wrk", "pushgateway", "rates"].includes(s))) process.stdout.write(`bench: ${NGINX_MISSING}\n`);

const errorOf = (err: unknown) => ({ error: err instanceof Error ? err.message : String(err) });
for (const s of scenarios) {
  try {
    if (s === "micro") results.micro = await micro();
    else if (s === "sweep") results.sweep = await sweep();
    else if (s === "wrk") results.wrk = await wrkScenario();
    else if (s === "replicas") results.replicas = await replicas();
    else if (s === "rates") results.rates = await rates();
    else if (s === "gc") results.gc = await gc();
    else if (s === "memory") {
      results.memory = [];
      for (const engine of MEMORY_ENGINES) results.memory.push(await memory(engine));
    } else results[s] = await frontScenario(s, workers);
  } catch (err) {
    results[s] = errorOf(err);
    process.stdout.write(`[${s}] failed: ${results[s] && "error" in results[s] ? results[s].error : ""}\n`);
  }
}

results.goals = goals(results);
results.meta.total_s = Math.round((Date.now() - t0) / 1000);
const written = write(results, scenarios.length === ALL.length && !process.env.BENCH_FRONTS);
process.stdout.write(`\n${markdown(results)}\nWritten to ${written.join(", ")} (${results.meta.total_s} s in all)\n`);
killAll();
process.exit(0);
