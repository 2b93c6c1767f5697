// `npm run bench`: the same load through each front, with the front's CPU per request from /proc.
// Env: BENCH_DURATION (seconds, default 10), BENCH_CONNECTIONS (default 50).
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { freePort, waitFor } from "../test/support/ports.js";

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const GROUPS = 256;
const BODY = Array.from({ length: 40 }, (_, i) => `bench_metric_${String(i).padStart(2, "0")} ${i}.5\n`).join("").padEnd(1023, "#") + "\n";
const CLK_TCK = 100;

interface Row {
  front: string;
  requests_per_second: number;
  p50_ms: number;
  p99_ms: number;
  cpu_us_per_request: number | null;
  errors: number;
  non_2xx: number;
}

const children: ChildProcess[] = [];
process.on("exit", () => children.forEach((c) => c.kill("SIGKILL")));

function start(cmd: string, args: string[]): ChildProcess {
  const c = spawn(cmd, args, { stdio: ["ignore", "ignore", "inherit"] });
  children.push(c);
  return c;
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

async function load(url: string, pid: number | undefined, front: string): Promise<Row> {
  const requests = Array.from({ length: GROUPS }, (_, i) => ({ method: "PUT" as const, path: `/metrics/job/bench/instance/host-${i}`, body: BODY, headers: { "content-type": "text/plain" } }));
  await autocannon({ url, connections: 10, duration: 1, requests }); // warm-up
  const before = pid ? cpuTicks(pid) : 0;
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, requests });
  const cpu = pid ? ((cpuTicks(pid) - before) / CLK_TCK) * 1e6 : null;
  const row = {
    front,
    requests_per_second: Math.round(r.requests.average),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    cpu_us_per_request: cpu === null ? null : Math.round(cpu / r.requests.total),
    errors: r.errors + r.timeouts,
    non_2xx: r.non2xx,
  };
  process.stdout.write(`${JSON.stringify(row)}\n`);
  return row;
}

const cli = fileURLToPath(new URL("../src/cli.js", import.meta.url));
const sinkPorts = [await freePort(), await freePort(), await freePort()];
start(process.execPath, [fileURLToPath(new URL("./sink.js", import.meta.url)), ...sinkPorts.map(String)]);
await waitFor("sink", async () => (await fetch(`http://127.0.0.1:${sinkPorts[2]}/`, { method: "PUT" })).ok);

const rows: Row[] = [];
rows.push(await load(`http://127.0.0.1:${sinkPorts[0]}`, undefined, "direct to sink"));
for (const engine of ["undici", "http-proxy"]) {
  const port = await freePort();
  const proc = start(process.execPath, [cli, "serve", "--listen", `127.0.0.1:${port}`, "--engine", engine, "--log-level", "warn", ...sinkPorts.flatMap((p) => ["--upstream", `http://127.0.0.1:${p}`])]);
  await waitFor(`dyshard ${engine}`, async () => (await fetch(`http://127.0.0.1:${port}/-/ready`)).ok);
  rows.push(await load(`http://127.0.0.1:${port}`, proc.pid, `dyshard --engine ${engine}`));
  proc.kill("SIGTERM");
}

const table = [
  "| front | req/s | p50 ms | p99 ms | CPU µs/req (front) | errors | non-2xx |",
  "|---|---|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.front} | ${r.requests_per_second} | ${r.p50_ms} | ${r.p99_ms} | ${r.cpu_us_per_request ?? "–"} | ${r.errors} | ${r.non_2xx} |`),
].join("\n");
process.stdout.write(`\n${CONNECTIONS} connections, ${DURATION}s, 1 KiB PUT bodies over ${GROUPS} groups, sink upstream x3\n\n${table}\n`);
const dir = fileURLToPath(new URL("../../bench/results/", import.meta.url));
mkdirSync(dir, { recursive: true });
const meta = { date: new Date().toISOString(), duration_s: DURATION, connections: CONNECTIONS, groups: GROUPS, body_bytes: BODY.length, node: process.version };
writeFileSync(`${dir}latest.json`, JSON.stringify({ ...meta, rows }, null, 2) + "\n");
writeFileSync(`${dir}latest.md`, `# Benchmark ${meta.date}\n\n${CONNECTIONS} connections, ${DURATION}s, ${BODY.length}-byte PUT bodies over ${GROUPS} groups; Node ${process.version}.\n\n${table}\n`);
process.exit(0);
