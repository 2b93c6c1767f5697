// The README's demo, run as `node dist/scripts/demo.js --smoke`: real Pushgateways, real pushes,
// a placement table that must agree with `dyshard route`, and nothing left running afterwards.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { requireBinary } from "../support/binaries.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DEMO = fileURLToPath(new URL("../../scripts/demo.js", import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command from the project root; SIGKILLs it (by PID) if it outlives `timeoutMs`. */
function runCommand(file: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(file, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      if (proc.pid !== undefined && proc.exitCode === null) process.kill(proc.pid, "SIGKILL");
    }, timeoutMs);
    proc.once("error", reject);
    proc.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface DemoOutput {
  gateways: { name: string; url: string; pid: number }[];
  dyshard: string;
  /** Table rows: group → the one Pushgateway name it is on. */
  placement: Map<string, string>;
  routeCommand: string[];
}

function parseDemo(stdout: string): DemoOutput {
  const gateways = [...stdout.matchAll(/^ {2}(pg-\d)\s+(http:\/\/127\.0\.0\.1:\d+)\s+\(prometheus-pushgateway, pid (\d+)\)$/gm)].map(
    (m) => ({ name: m[1]!, url: m[2]!, pid: Number(m[3]) }),
  );
  const dyshard = stdout.match(/^ {2}dyshard\s+(http:\/\/127\.0\.0\.1:\d+)\s/m)?.[1] ?? "";
  const placement = new Map<string, string>();
  for (const m of stdout.matchAll(/^ {2}(\{job=.*?\})\s+(\d+)\s+(pg-\d) (http:\/\/127\.0\.0\.1:\d+)/gm)) placement.set(m[1]!, m[3]!);
  const routeLine = stdout.split("\n").find((l) => /^\s+node \S*bin\/dyshard\.js route /.test(l)) ?? "";
  return { gateways, dyshard, placement, routeCommand: routeLine.trim().split(/\s+/) };
}

const EXPECTED_GROUPS = [
  '{job="backup", instance="db-1", region="eu"}',
  '{job="backup", instance="db-2", region="eu"}',
  '{job="backup", instance="db-3", region="us"}',
  '{job="nightly_etl", stage="extract"}',
  '{job="nightly_etl", stage="load"}',
  '{job="deploy", app="shop/web"}',
  '{job="cleanup"}',
];

/** Holds a port on 127.0.0.1 if it is free; undefined when something else has it already. */
function hold(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(undefined));
    srv.listen(port, "127.0.0.1", () => resolve(srv));
  });
}

describe("npm run demo (scripts/demo.ts --smoke)", () => {
  it("starts three Pushgateways and dyshard, places every example group on one of them, agrees with `dyshard route`, and stops everything", async () => {
    requireBinary("prometheus-pushgateway");
    const run = await runCommand(process.execPath, [DEMO, "--smoke"]);
    const all = run.stdout + run.stderr;
    assert.equal(run.code, 0, `demo --smoke exited ${run.code ?? run.signal}:\n${all}`);
    assert.match(run.stdout, /smoke: ok/);
    assert.doesNotMatch(run.stdout, /PROBLEMS/);

    const demo = parseDemo(run.stdout);
    assert.deepEqual(
      demo.gateways.map((g) => g.name),
      ["pg-1", "pg-2", "pg-3"],
      `three Pushgateways named in:\n${run.stdout}`,
    );
    assert.equal(new Set(demo.gateways.map((g) => g.url)).size, 3, "three distinct Pushgateway URLs");
    assert.match(demo.dyshard, /^http:\/\/127\.0\.0\.1:\d+$/);

    // The table names every example group exactly once, each on one of the three Pushgateways.
    assert.deepEqual([...demo.placement.keys()].sort(), [...EXPECTED_GROUPS].sort(), `placement table in:\n${run.stdout}`);
    for (const [g, on] of demo.placement) assert.ok(["pg-1", "pg-2", "pg-3"].includes(on), `${g} on ${on}`);
    assert.match(run.stdout, /Groups per Pushgateway: pg-1 \d+, pg-2 \d+, pg-3 \d+\./);
    const perGateway = [...run.stdout.matchAll(/pg-\d (\d+)[,.]/g)].map((m) => Number(m[1]));
    assert.equal(
      perGateway.reduce((a, b) => a + b, 0),
      EXPECTED_GROUPS.length,
    );

    // The copy-paste commands are there, with the real URLs.
    for (const cmd of [
      `curl -sS -X PUT --data-binary @- ${demo.dyshard}/metrics/job/`,
      `curl -sS -X DELETE ${demo.dyshard}/metrics/job/`,
      `curl -sS ${demo.dyshard}/-/dyshard/ring`,
      `curl -sS ${demo.dyshard}/metrics`,
    ]) {
      assert.ok(run.stdout.includes(cmd), `missing command: ${cmd}`);
    }

    // The printed `dyshard route` command, run as printed, names the Pushgateway the table shows.
    assert.equal(demo.routeCommand[0], "node", `route command in:\n${run.stdout}`);
    const routed = await runCommand(process.execPath, demo.routeCommand.slice(1), process.env, 30_000);
    assert.equal(routed.code, 0, routed.stdout + routed.stderr);
    const answers = routed.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { path: string; upstream: string });
    const db1 = answers.find((a) => a.path === "/metrics/job/backup/instance/db-1/region/eu");
    assert.ok(db1, `route output: ${routed.stdout}`);
    const tableName = demo.placement.get('{job="backup", instance="db-1", region="eu"}');
    assert.equal(db1.upstream, demo.gateways.find((g) => g.name === tableName)?.url, "`dyshard route` and the demo's table disagree");

    // Everything the demo started is gone (and if not, it is cleaned up here, by PID, and the test fails).
    const left = demo.gateways.filter((g) => isAlive(g.pid));
    for (const g of left) process.kill(g.pid, "SIGKILL");
    assert.deepEqual(left, [], "the demo left Pushgateways running");
  });

  it("falls back to free ports when 9091 and 9101-9103 are taken", async () => {
    requireBinary("prometheus-pushgateway");
    const held = new Map<number, Server>();
    for (const port of [9091, 9101, 9102, 9103]) {
      const srv = await hold(port);
      if (srv) held.set(port, srv);
    }
    try {
      const run = await runCommand(process.execPath, [DEMO, "--smoke"]);
      assert.equal(run.code, 0, `demo --smoke exited ${run.code ?? run.signal}:\n${run.stdout}${run.stderr}`);
      const demo = parseDemo(run.stdout);
      assert.equal(demo.gateways.length, 3);
      assert.equal(demo.placement.size, EXPECTED_GROUPS.length);
      for (const url of [...demo.gateways.map((g) => g.url), demo.dyshard]) {
        const port = Number(new URL(url).port);
        assert.ok(!held.has(port), `${url} uses port ${port}, which this test holds`);
      }
      const left = demo.gateways.filter((g) => isAlive(g.pid));
      for (const g of left) process.kill(g.pid, "SIGKILL");
      assert.deepEqual(left, [], "the demo left Pushgateways running");
    } finally {
      await Promise.all([...held.values()].map((s) => new Promise((r) => s.close(r))));
    }
  });

  it("without prometheus-pushgateway prints one line with the install command and exits 1", async () => {
    const run = await runCommand(process.execPath, [DEMO, "--smoke"], { ...process.env, PATH: "/nonexistent-dyshard-demo-path" });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const lines = (run.stdout + run.stderr).split("\n").filter(Boolean);
    assert.equal(lines.length, 1, `expected one line, got:\n${lines.join("\n")}`);
    assert.match(lines[0]!, /prometheus-pushgateway/);
    assert.match(lines[0]!, /sudo apt-get install -y prometheus-pushgateway/);
  });
});
