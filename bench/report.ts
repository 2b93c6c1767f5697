// Tables, the goals of the "Performance" issues (PASS/FAIL with their figures), and the files in
// bench/results/ (latest.json, latest.md and a timestamped copy of each).
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { GcResult } from "./gc.js";
import type { MemoryResult } from "./memory.js";
import type { MicroResult } from "./micro.js";
import type { RatesResult } from "./rates.js";
import { gcGoal, gcSection } from "./report-gc.js";
import { ratesTable, realUseGoals } from "./report-real-use.js";
import type { SweepResult } from "./sweep.js";
import { DASH, num, ok, ratio, table, troubled, verdict, type Goal } from "./tables.js";
import type { FrontScenario, Row } from "./throughput.js";

export type { Goal } from "./tables.js";

export interface Results {
  meta: Record<string, unknown>;
  micro?: MicroResult | { error: string };
  sink?: FrontScenario | { error: string };
  pushgateway?: FrontScenario | { error: string };
  wrk?: FrontScenario | { error: string };
  rates?: RatesResult | { error: string };
  replicas?: FrontScenario | { error: string };
  /** One run per engine. */
  memory?: MemoryResult[] | { error: string };
  sweep?: SweepResult | { error: string };
  gc?: GcResult | { error: string };
  goals?: Goal[];
}

export function frontTable(s: FrontScenario): string {
  const counted = s.rows.some((r) => r.upstream_requests_per_push !== undefined);
  const head = ["front", "req/s", "p50 ms", "p99 ms", "CPU µs/req", "CPU vs nginx 1w", "req/s vs nginx (same workers)", "errors/non-2xx"];
  if (counted) head.push("upstream req/push");
  const body = s.rows.map((r: Row) => {
    const cells = r.skipped
      ? [r.front, r.skipped, DASH, DASH, DASH, DASH, DASH, DASH]
      : [
          r.front,
          num(r.requests_per_second),
          num(r.p50_ms),
          num(r.p99_ms),
          cpuCell(r),
          ratio(r.cpu_ratio_nginx_1w),
          ratio(r.rps_ratio_nginx),
          `${r.errors}/${r.non_2xx}`,
        ];
    return counted ? [...cells, num(r.upstream_requests_per_push)] : cells;
  });
  return table(head, body);
}

/** The median, and with several rounds their range: "40.2 (39.6–45.1)". */
function cpuCell(r: Row): string {
  const all = (r.cpu_us_per_request_rounds ?? []).filter((x): x is number => x !== null);
  return all.length > 1 ? `${num(r.cpu_us_per_request)} (${Math.min(...all)}–${Math.max(...all)})` : num(r.cpu_us_per_request);
}

function microTable(m: MicroResult): string {
  return table(
    ["step", "ns per push"],
    [
      ["route decision (parse + hash + jump)", num(m.full_ns)],
      ["parse alone (route(): grouping key + routing key)", num(m.parse_ns)],
      ["hash + jump alone (cluster.owner(key))", num(m.hash_jump_ns)],
    ],
  );
}

function memoryTable(runs: MemoryResult[]): string {
  return table(
    ["engine", "pushes", "size", "time s", "MiB/s", "idle RSS MiB", "peak RSS MiB", "VmHWM MiB", "answered 200", "bytes at upstream"],
    runs.map((m) => [
      m.engine,
      String(m.pushes),
      `${m.bytes_each / 1048576} MiB`,
      String(m.duration_s),
      String(m.throughput_mib_s),
      String(m.idle_rss_mib),
      String(m.peak_rss_mib),
      num(m.hwm_mib),
      `${m.answered_200}/${m.pushes}`,
      `${m.sink_bytes} of ${m.expected_bytes}${m.all_bytes_arrived ? " (all)" : " (MISSING)"}`,
    ]),
  );
}

function sweepTable(s: SweepResult): string {
  return table(
    ["groups", "run", "misplaced", "time ms", "CPU s", "peak RSS MiB", "moved", "deleted", "failed"],
    s.rows.map((x) => [
      num(x.groups),
      x.kind,
      num(x.misplaced),
      num(x.run_ms),
      num(x.cpu_s),
      num(x.peak_rss_mib),
      num(x.moved),
      num(x.deleted),
      num(x.failed),
    ]),
  );
}

/** The sweep's goals: linear in groups; at 100k groups a no-op run under 10 s with RSS under 300 MiB. */
function sweepGoals(s: Results["sweep"]): Goal[] {
  const what = "Sweep, one no-op handover run";
  if (!ok(s)) return [{ status: "SKIP", line: `${what}: ${s ? s.error : "sweep scenario not run"}` }];
  const noop = s.rows.filter((x) => x.kind === "no-op");
  const per = s.ms_per_1k_groups;
  const linear = per.length > 1 && Math.max(...per) <= 1.5 * Math.min(...per);
  const out: Goal[] = [
    {
      status: linear ? "PASS" : "FAIL",
      line: `${what}, time per 1,000 groups at ${noop.map((x) => num(x.groups)).join(", ")} groups: ${per.join(", ")} ms (goal: linear, within 1.5x of each other): ${linear ? "PASS" : "FAIL"}`,
    },
  ];
  const big = noop.find((x) => x.groups === 100_000);
  if (!big) out.push({ status: "SKIP", line: `${what} at 100,000 groups: not in BENCH_SWEEP_GROUPS` });
  else {
    const pass = big.run_ms < 10_000 && big.peak_rss_mib < 300 && big.failed === 0;
    out.push({
      status: pass ? "PASS" : "FAIL",
      line: `${what} at 100,000 groups: ${num(big.run_ms)} ms, peak RSS ${big.peak_rss_mib} MiB (goal < 10 s, < 300 MiB): ${pass ? "PASS" : "FAIL"}`,
    });
  }
  return out;
}

export function goals(r: Results): Goal[] {
  const out: Goal[] = [];
  const sinkRows = ok(r.sink) ? r.sink.rows : [];
  const find = (prefix: string, workers?: number) =>
    sinkRows.find((x) => x.front.startsWith(prefix) && (workers === undefined || x.workers === workers));
  const workers = Number(r.meta.workers);

  const nginx1 = find("nginx 1 worker");
  for (const engine of ["undici", "native", "http-proxy"]) {
    const d = sinkRows.find((x) => x.engine === engine && x.workers === 1 && x.replicas === undefined);
    const what = `CPU per request, one dyshard process (--engine ${engine}) vs nginx 1 worker`;
    if (!ok(r.sink)) out.push({ status: "SKIP", line: `${what}: sink scenario not run` });
    else if (!d || d.skipped || d.cpu_us_per_request == null) out.push({ status: "SKIP", line: `${what}: ${d?.skipped ?? "no figure"}` });
    else if (!nginx1 || nginx1.skipped || !nginx1.cpu_us_per_request)
      out.push({ status: "SKIP", line: `${what}: ${d.cpu_us_per_request} µs vs ${DASH} (${nginx1?.skipped ?? "no nginx row"})` });
    else {
      const x = d.cpu_us_per_request / nginx1.cpu_us_per_request;
      const status = verdict(x <= 2, [d, nginx1]);
      out.push({
        status,
        line: `${what}: ${d.cpu_us_per_request} µs vs ${nginx1.cpu_us_per_request} µs = ${x.toFixed(2)}x (goal ≤ 2x)${troubled(d)}${troubled(nginx1)}: ${status}`,
      });
    }
  }

  const nw = find("nginx ", workers);
  for (const dw of sinkRows.filter((x) => x.front.startsWith("dyshard --workers"))) {
    const whatW = `Requests/s, ${dw.front} vs nginx ${workers} workers`;
    if (dw.skipped || !dw.requests_per_second) out.push({ status: "SKIP", line: `${whatW}: ${dw.skipped ?? "no figure"}` });
    else if (!nw || nw.skipped || !nw.requests_per_second)
      out.push({ status: "SKIP", line: `${whatW}: ${num(dw.requests_per_second)} vs ${DASH} (${nw?.skipped ?? "no nginx row"})` });
    else {
      const x = dw.requests_per_second / nw.requests_per_second;
      const status = verdict(x >= 1, [dw, nw]);
      // How each scales from one process to N, beside the goal: on a machine whose cores the load
      // and the upstream share, requests/s follow CPU per request more than the worker count.
      const one = find(`dyshard --engine ${/\((.+)\)/.exec(dw.front)?.[1] ?? ""}`);
      const scale = (n: Row | undefined, d: Row | undefined) =>
        n?.requests_per_second && d?.requests_per_second ? `${(n.requests_per_second / d.requests_per_second).toFixed(2)}x` : DASH;
      out.push({
        status,
        line: `${whatW}: ${num(dw.requests_per_second)} vs ${num(nw.requests_per_second)} = ${x.toFixed(2)}x (goal ≥ 1x)${troubled(dw)}${troubled(nw)}; 1 → ${workers} processes: dyshard ${scale(dw, one)}, nginx ${scale(nw, nginx1)}: ${status}`,
      });
    }
  }
  if (!ok(r.sink))
    out.push({ status: "SKIP", line: `Requests/s, dyshard --workers ${workers} vs nginx ${workers} workers: sink scenario not run` });

  const whatM = "Route decision (parse + hash + jump) per push, micro-benchmark";
  if (!ok(r.micro)) out.push({ status: "SKIP", line: `${whatM}: ${r.micro ? r.micro.error : "micro scenario not run"}` });
  else {
    const status = r.micro.full_ns <= 1000 ? "PASS" : "FAIL";
    out.push({
      status,
      line: `${whatM}: ${r.micro.full_ns} ns (parse ${r.micro.parse_ns} ns, hash + jump ${r.micro.hash_jump_ns} ns) (goal ≤ 1000 ns): ${status}`,
    });
  }

  const whatR = "Memory, concurrent streamed pushes through one dyshard";
  if (!ok(r.memory)) out.push({ status: "SKIP", line: `${whatR}: ${r.memory ? r.memory.error : "memory scenario not run"}` });
  else
    for (const m of r.memory) {
      const status = m.pass ? "PASS" : "FAIL";
      out.push({
        status,
        line: `${whatR} (--engine ${m.engine}, ${m.pushes} x ${m.bytes_each / 1048576} MiB): peak RSS ${m.peak_rss_mib} MiB, VmHWM ${num(m.hwm_mib)} MiB (goal < ${m.rss_limit_mib} MiB); ${m.answered_200}/${m.pushes} answered 200, upstream got ${m.sink_bytes} of ${m.expected_bytes} bytes${m.all_bytes_arrived ? "" : " (NOT every byte)"}: ${status}`,
      });
    }
  out.push(...realUseGoals(r));
  out.push(...sweepGoals(r.sweep));
  out.push(gcGoal(r.gc));
  for (const g of out) if (g.status === "SKIP") g.line += ": SKIP";
  return out;
}

/** The whole report as Markdown (also what is printed at the end). */
export function markdown(r: Results): string {
  const m = r.meta;
  const parts = [
    `# dyshard benchmark, ${m.date}`,
    "",
    `Node ${m.node}, ${m.cpus} CPUs, ${m.nginx ?? "nginx absent"}. Load: autocannon, ${m.connections} connections, ${m.warmup_s} s warm-up then ${m.duration_s} s, ${m.body_bytes}-byte PUT bodies (40 gauge lines of exposition text) over ${m.groups} groups. CPU µs/req: utime+stime of all the front's processes (/proc, CLK_TCK ${m.clk_tck}) over the timed run / requests. Load generator, front and upstreams share the machine.`,
  ];
  for (const key of ["sink", "pushgateway", "wrk", "replicas"] as const) {
    const s = r[key];
    if (!s) continue;
    parts.push("", `## Scenario "${key}"`, "");
    if ("error" in s) parts.push(`failed: ${s.error}`);
    else {
      const rounds = Math.max(...s.rows.map((r) => r.rounds ?? 1));
      parts.push(
        `${s.load ? `Load: ${s.load}. ` : ""}Upstreams: ${s.upstream}.${rounds > 1 ? ` Every front ran ${rounds} rounds, taken in turn; each figure is the median of its rounds (CPU: median and range).` : ""}`,
        "",
        frontTable(s),
      );
      for (const n of s.notes) parts.push("", `Note: ${n}`);
    }
  }
  if (r.rates) {
    parts.push("", `## Scenario "rates"`, "");
    if ("error" in r.rates) parts.push(`failed: ${r.rates.error}`);
    else {
      parts.push(ratesTable(r.rates));
      for (const n of r.rates.notes) parts.push("", `Note: ${n}`);
    }
  }
  if (r.micro)
    parts.push(
      "",
      `## Scenario "micro"`,
      "",
      "error" in r.micro
        ? `failed: ${r.micro.error}`
        : `${r.micro.paths} realistic push paths, best of ${r.micro.repeats} runs of ${r.micro.n} decisions.\n\n${microTable(r.micro)}`,
    );
  if (r.memory) {
    parts.push("", `## Scenario "memory"`, "");
    if ("error" in r.memory) parts.push(`failed: ${r.memory.error}`);
    else {
      parts.push(
        `dyshard --max-body 64MiB, each engine in turn, in front of a byte-counting sink; RSS of dyshard sampled every 100 ms.`,
        "",
        memoryTable(r.memory),
      );
      for (const m of r.memory)
        if (m.failures.length) parts.push("", `--engine ${m.engine}: ${m.failure_count} failed pushes, first: ${m.failures.join("; ")}`);
    }
  }
  if (r.sweep) {
    parts.push("", `## Scenario "sweep"`, "");
    if ("error" in r.sweep) parts.push(`failed: ${r.sweep.error}`);
    else
      parts.push(
        `One POST /-/dyshard/rebalance of dyshard --engine native over 3 Pushgateways, grown in place; 1% misplaced: those groups pushed again straight to every instance. Idle RSS ${r.sweep.idle_rss_mib} MiB; no-op run ms per 1,000 groups: ${r.sweep.ms_per_1k_groups.join(", ")}.`,
        "",
        sweepTable(r.sweep),
      );
  }
  if (r.gc) parts.push("", `## Scenario "gc"`, "", ...gcSection(r.gc));
  if (r.goals?.length) parts.push("", "## Goals", "", ...r.goals.map((g) => `- ${g.line}`));
  return parts.join("\n") + "\n";
}

/**
 * A run of every scenario goes to latest.{json,md} and a timestamped copy (the history); a run of
 * some scenarios only to latest-<scenarios>.{json,md}, so it never replaces a whole run's figures.
 * Returns the paths written.
 */
export function write(r: Results, complete: boolean): string[] {
  const dir = fileURLToPath(new URL("../../bench/results/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  const stamp = String(r.meta.date).replace(/[:.]/g, "-");
  const names = complete ? ["latest", stamp] : [`latest-${(r.meta.scenarios as string[]).join("-")}`];
  const json = JSON.stringify(r, null, 2) + "\n";
  const md = markdown(r);
  const written: string[] = [];
  for (const name of names) {
    writeFileSync(`${dir}${name}.json`, json);
    writeFileSync(`${dir}${name}.md`, md);
    written.push(`${dir}${name}.json`, `${dir}${name}.md`);
  }
  return written;
}
