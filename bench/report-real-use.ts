// The report's part for the rows that match real use (issue 15): the "rates" table, and the goals
// of the default engine at saturation under both load shapes, at fixed rates, and with --replicas 2.
import { DEFAULT_ENGINE, ENGINES } from "./front-rows.js";
import { HELD, type RateRow, type RatesResult } from "./rates.js";
import type { FrontScenario, Row } from "./rounds.js";
import { DASH, num, ok, ratio, table, troubled, verdict, type Goal } from "./tables.js";
import { WRK_GROUPS } from "./wrk.js";

type Part<T> = T | { error: string } | undefined;

export interface RealUse {
  sink?: Part<FrontScenario>;
  wrk?: Part<FrontScenario>;
  rates?: Part<RatesResult>;
  replicas?: Part<FrontScenario>;
}

const UPSTREAM = { sink: "into the sink", pushgateway: "through 3 Pushgateways" } as const;
/** The default engine first: its goal lines lead. */
const ENGINES_FIRST_DEFAULT = [DEFAULT_ENGINE, ...ENGINES.filter((e) => e !== DEFAULT_ENGINE)];
const engineName = (e: string) => `--engine ${e}${e === DEFAULT_ENGINE ? ", the default" : ""}`;
const skip = (line: string): Goal => ({ status: "SKIP", line });

export function ratesTable(r: RatesResult): string {
  const head = [
    "upstream",
    "rate /s",
    "front",
    "achieved /s",
    "missed",
    "p50 ms",
    "p99 ms",
    "CPU s",
    "CPU µs/push",
    "CPU vs nginx 1w",
    "errors/non-2xx",
  ];
  const body = r.rows.map((x: RateRow) =>
    x.skipped
      ? [x.upstream, num(x.rate), x.front, x.skipped, DASH, DASH, DASH, DASH, DASH, DASH, DASH]
      : [
          x.upstream,
          num(x.rate),
          x.front,
          `${num(x.achieved_per_second)}${x.held ? "" : " (NOT HELD)"}`,
          num(x.missed),
          num(x.p50_ms),
          num(x.p99_ms),
          num(x.cpu_s),
          num(x.cpu_us_per_request),
          ratio(x.cpu_ratio_nginx_1w),
          `${x.errors}/${x.non_2xx}`,
        ],
  );
  return [
    `Pushes paced evenly (bench/paced.ts: push k at k/rate s on a free keep-alive connection, a push due while all are busy is missed), the autocannon body over 256 groups, each front in turn at each rate, warmed up at saturation first (BENCH_RATE_WARMUP s) and then at the rate; a front holds a rate when it answers ≥ ${HELD * 100}% of it. CPU per push as above.`,
    "",
    table(head, body),
  ].join("\n");
}

/** Default engine at saturation into the sink, one load shape: ≤ 1.5x nginx 1 worker. */
function saturationGoal(s: Part<FrontScenario>, scenario: string, shape: string): Goal {
  const what = `CPU per push, default engine (--engine ${DEFAULT_ENGINE}), sink at saturation, ${shape}, vs nginx 1 worker`;
  if (!ok(s)) return skip(`${what}: ${s ? s.error : `${scenario} scenario not run`}`);
  const d = s.rows.find((x) => x.default_engine && x.workers === 1 && x.replicas === undefined);
  const n = s.rows.find((x) => x.front === "nginx 1 worker");
  if (!d || d.skipped || d.cpu_us_per_request == null) return skip(`${what}: ${d?.skipped ?? "no figure"}`);
  if (!n || n.skipped || !n.cpu_us_per_request)
    return skip(`${what}: ${d.cpu_us_per_request} µs vs ${DASH} (${n?.skipped ?? "no nginx row"})`);
  const x = d.cpu_us_per_request / n.cpu_us_per_request;
  const status = verdict(x <= 1.5, [d, n]);
  return {
    status,
    line: `${what}: ${d.cpu_us_per_request} µs vs ${n.cpu_us_per_request} µs = ${x.toFixed(2)}x (goal ≤ 1.5x, both load shapes)${troubled(d)}${troubled(n)}: ${status}`,
  };
}

/** One engine, one upstream, every rate: ≤ 2x nginx's CPU per push, and the rate held wherever nginx held it. */
function rateGoal(r: RatesResult, engine: string, upstream: RateRow["upstream"]): Goal {
  const what = `Fixed rates ${UPSTREAM[upstream]}, CPU per push of dyshard ${engineName(engine)}, vs nginx 1 worker`;
  const at = r.rows.filter((x) => x.upstream === upstream);
  if (at.length === 0) return skip(`${what}: ${r.notes.find((n) => n.includes("Pushgateway")) ?? "no rows"}`);
  const cells: string[] = [];
  let pass = true;
  let missing = false;
  for (const rate of r.rates) {
    const d = at.find((x) => x.rate === rate && x.engine === engine);
    const n = at.find((x) => x.rate === rate && x.front === "nginx 1 worker");
    if (!d?.cpu_us_per_request || !n?.cpu_us_per_request) {
      missing = true;
      cells.push(`${num(rate)}/s: ${d?.skipped ?? n?.skipped ?? "no figure"}`);
      continue;
    }
    const x = d.cpu_us_per_request / n.cpu_us_per_request;
    const held = d.held ? "" : ` (dyshard did not hold it: ${num(d.achieved_per_second)}/s${n.held ? "" : ", nor nginx"})`;
    const nginxOnly = d.held && !n.held ? " (nginx did not hold it)" : "";
    pass &&= x <= 2 && (d.held === true || n.held !== true) && !troubled(d) && !troubled(n);
    cells.push(`${num(rate)}/s ${d.cpu_us_per_request} vs ${n.cpu_us_per_request} µs = ${x.toFixed(2)}x${held}${nginxOnly}${troubled(d)}`);
  }
  if (missing) return skip(`${what}: ${cells.join("; ")}`);
  const status = pass ? "PASS" : "FAIL";
  return { status, line: `${what}: ${cells.join("; ")} (goal ≤ 2x at every rate): ${status}` };
}

/** One engine: --replicas 2 within 1.3x the CPU per client push of --replicas 1. */
function replicasGoal(s: Part<FrontScenario>, engine: string): Goal {
  const what = `CPU per client push, dyshard --replicas 2 vs --replicas 1 (${engineName(engine)}), sink at saturation`;
  if (!ok(s)) return skip(`${what}: ${s ? s.error : "replicas scenario not run"}`);
  const of = (n: number): Row | undefined => s.rows.find((x) => x.engine === engine && x.replicas === n);
  const [one, two] = [of(1), of(2)];
  if (!one?.cpu_us_per_request || !two?.cpu_us_per_request) return skip(`${what}: ${two?.skipped ?? one?.skipped ?? "no figure"}`);
  const x = two.cpu_us_per_request / one.cpu_us_per_request;
  const status = verdict(x <= 1.3, [one, two]);
  const writes = two.upstream_requests_per_push === undefined ? "" : ` (${two.upstream_requests_per_push} upstream requests per push)`;
  return {
    status,
    line: `${what}: ${two.cpu_us_per_request} µs${writes} vs ${one.cpu_us_per_request} µs = ${x.toFixed(2)}x (goal ≤ 1.3x)${troubled(one)}${troubled(two)}: ${status}`,
  };
}

export function realUseGoals(r: RealUse): Goal[] {
  const out = [saturationGoal(r.sink, "sink", "autocannon 256 groups"), saturationGoal(r.wrk, "wrk", `wrk ${num(WRK_GROUPS)} groups`)];
  for (const engine of ENGINES_FIRST_DEFAULT)
    for (const upstream of ["sink", "pushgateway"] as const) {
      const rates = r.rates;
      const what = `Fixed rates ${UPSTREAM[upstream]}, CPU per push of dyshard ${engineName(engine)}, vs nginx 1 worker`;
      out.push(ok(rates) ? rateGoal(rates, engine, upstream) : skip(`${what}: ${rates ? rates.error : "rates scenario not run"}`));
    }
  for (const engine of ENGINES_FIRST_DEFAULT) out.push(replicasGoal(r.replicas, engine));
  return out;
}
