// The README's demo, run as `node dist/scripts/demo.js --smoke`: real Pushgateways, real pushes,
// a placement table that must agree with `dyshard route`, the Prometheus part (a value answered by
// PromQL, the owner killed and back, one copy after the handover), and nothing left running afterwards.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
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

/** Fails if any process the demo printed (Pushgateways, also restarted, and Prometheus) still runs; SIGKILLs those by PID. */
function assertNothingLeft(demo: DemoOutput): void {
  const left = demo.pids.filter(isAlive);
  for (const pid of left) process.kill(pid, "SIGKILL");
  assert.deepEqual(left, [], "the demo left processes running");
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
  prometheus: { url: string; pid: number } | undefined;
  /** The Prometheus part's numbered steps, by number. */
  steps: Map<number, string>;
  /** Every pid the demo printed: the Pushgateways (also restarted ones) and Prometheus. */
  pids: number[];
}

function parseDemo(stdout: string): DemoOutput {
  const gateways = [...stdout.matchAll(/^ {2}(pg-\d)\s+(http:\/\/127\.0\.0\.1:\d+)\s+\(prometheus-pushgateway, pid (\d+)\)$/gm)].map(
    (m) => ({ name: m[1]!, url: m[2]!, pid: Number(m[3]) }),
  );
  const dyshard = stdout.match(/^ {2}dyshard\s+(http:\/\/127\.0\.0\.1:\d+)\s/m)?.[1] ?? "";
  const placement = new Map<string, string>();
  for (const m of stdout.matchAll(/^ {2}(\{job=.*?\})\s+(\d+)\s+(pg-\d) (http:\/\/127\.0\.0\.1:\d+)/gm)) placement.set(m[1]!, m[3]!);
  const routeLine = stdout.split("\n").find((l) => /^\s+node \S*bin\/dyshard\.js route /.test(l)) ?? "";
  const prom = stdout.match(/^ {2}prometheus\s+(http:\/\/127\.0\.0\.1:\d+)\s+\(prometheus, pid (\d+)/m);
  const steps = new Map([...stdout.matchAll(/^ {2}(\d)\. (.*)$/gm)].map((m) => [Number(m[1]), m[2]!]));
  const own = Number(stdout.match(/^ {2}dyshard .*\bpid (\d+)\)$/m)?.[1]); // the demo's own process
  const pids = [...stdout.matchAll(/\bpid (\d+)\b/g)].map((m) => Number(m[1])).filter((pid) => pid !== own);
  return {
    gateways,
    dyshard,
    placement,
    routeCommand: routeLine.trim().split(/\s+/),
    prometheus: prom ? { url: prom[1]!, pid: Number(prom[2]) } : undefined,
    steps,
    pids,
  };
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
    requireBinary("prometheus");
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

    // The Prometheus part: the value answered by PromQL, the push while the owner is down, one copy after the handover.
    const owner = demo.placement.get('{job="backup", instance="db-1", region="eu"}')!;
    assert.ok(demo.prometheus, `a Prometheus line in:\n${run.stdout}`);
    assert.match(demo.steps.get(1) ?? "", new RegExp(`^PUT demo_records_processed 200 for .* through dyshard: 200, on ${owner}$`));
    assert.match(
      demo.steps.get(2) ?? "",
      new RegExp(`^PromQL demo_records_processed\\{job="backup",instance="db-1",region="eu"\\} = 200: 1 series, scraped from ${owner} `),
    );
    assert.match(demo.steps.get(3) ?? "", new RegExp(`^${owner} killed \\(SIGKILL, pid \\d+\\)`));
    const during = demo.steps.get(4)?.match(/: every push 200; .* = 300 now on (pg-\d)$/)?.[1];
    assert.ok(during && during !== owner, `step 4 in:\n${run.stdout}`);
    assert.match(demo.steps.get(5) ?? "", new RegExp(`^PromQL = 300: 1 series, scraped from ${during} `));
    assert.match(demo.steps.get(6) ?? "", new RegExp(`^${owner} restarted empty on the same port \\(pid \\d+\\)`));
    assert.match(
      demo.steps.get(7) ?? "",
      new RegExp(`^handover \\(POST /-/dyshard/rebalance\\): copied \\d+, deleted \\d+; .*: 1 copy, on ${owner}$`),
    );
    assert.match(run.stdout, /^ {5}every one of the 7 groups is stored once, on its owner$/m);
    assert.match(demo.steps.get(8) ?? "", new RegExp(`^PromQL = 300: 1 series, scraped from ${owner} again `));
    assert.ok(run.stdout.includes(`curl -sS '${demo.prometheus.url}/api/v1/query?query=demo_records_processed'`), "the PromQL command");

    // Everything the demo started is gone (and if not, it is cleaned up here, by PID, and the test fails).
    assertNothingLeft(demo);
  });

  it("falls back to free ports when 9090, 9091 and 9101-9103 are taken", async () => {
    requireBinary("prometheus-pushgateway");
    requireBinary("prometheus");
    const held = new Map<number, Server>();
    for (const port of [9090, 9091, 9101, 9102, 9103]) {
      const srv = await hold(port);
      if (srv) held.set(port, srv);
    }
    try {
      const run = await runCommand(process.execPath, [DEMO, "--smoke"]);
      assert.equal(run.code, 0, `demo --smoke exited ${run.code ?? run.signal}:\n${run.stdout}${run.stderr}`);
      const demo = parseDemo(run.stdout);
      assert.equal(demo.gateways.length, 3);
      assert.equal(demo.placement.size, EXPECTED_GROUPS.length);
      assert.ok(demo.prometheus, `a Prometheus line in:\n${run.stdout}`);
      for (const url of [...demo.gateways.map((g) => g.url), demo.dyshard, demo.prometheus.url]) {
        const port = Number(new URL(url).port);
        assert.ok(!held.has(port), `${url} uses port ${port}, which this test holds`);
      }
      assertNothingLeft(demo);
    } finally {
      await Promise.all([...held.values()].map((s) => new Promise((r) => s.close(r))));
    }
  });

  it("without prometheus on the PATH says so in one line and runs as before", async () => {
    const bin = execFileSync("sh", ["-c", `command -v ${requireBinary("prometheus-pushgateway")}`])
      .toString()
      .trim();
    const dir = mkdtempSync(path.join(tmpdir(), "dyshard-demo-path-"));
    symlinkSync(bin, path.join(dir, "prometheus-pushgateway"));
    try {
      const run = await runCommand(process.execPath, [DEMO, "--smoke"], { ...process.env, PATH: dir });
      assert.equal(run.code, 0, `demo --smoke exited ${run.code ?? run.signal}:\n${run.stdout}${run.stderr}`);
      const said = run.stdout.split("\n").filter((l) => /prometheus/i.test(l) && !/prometheus-pushgateway/.test(l));
      assert.deepEqual(said, [
        "Prometheus is not installed, so the demo skips the part where it scrapes through dyshard (`sudo apt-get install -y prometheus` adds it).",
      ]);
      const demo = parseDemo(run.stdout);
      assert.equal(demo.placement.size, EXPECTED_GROUPS.length);
      assert.equal(demo.steps.size, 0, "no Prometheus steps");
      assertNothingLeft(demo);
    } finally {
      rmSync(dir, { recursive: true, force: true });
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
