// `--workers 2`: a move holds pushes of its groups in every worker (the primary waits for each
// worker's acknowledgement). A worker that cannot acknowledge — SIGSTOPped here — must not hold the
// move forever: its death releases the move at once (bound: answered within 1.5 s of the SIGKILL),
// and a worker that stays hung is given up on after the upstream timeout + 1 s (here 3 s + 1 s).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import http from "node:http";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { routingKey } from "../../src/pushgateway/grouping-key.js";
import { loadHash64 } from "../../src/routing/hash.js";
import { Ring } from "../../src/routing/ring.js";
import { requireBinary } from "../support/binaries.js";
import { spawnWorkers, type DyshardProcess } from "../support/dyshard.js";
import { waitFor } from "../support/ports.js";
import { push } from "../support/push.js";
import { startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";
import { freeze, thaw } from "../support/freeze.js";

/** One request on a connection of its own (the primary hands each new connection to a free worker). */
function once(url: string, method: string, path: string, body = "", ms = 2000): Promise<{ status: number; text: string } | "no answer"> {
  return new Promise((resolve) => {
    const req = http.request(url + path, { method, agent: false, timeout: ms }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      res.on("error", () => resolve("no answer"));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve("no answer"));
    req.end(body);
  });
}

const children = (pid: number) =>
  execFileSync(requireBinary("pgrep"), ["-P", String(pid)], { encoding: "utf8" })
    .trim()
    .split("\n")
    .filter(Boolean)
    .map(Number);

describe("--workers 2: the move's gate and a hung or dead worker", () => {
  let pgs: Pushgateway[];
  let d: DyshardProcess;
  const stopped = new Set<number>();
  const pause = (pid: number) => (stopped.add(pid), freeze(pid));
  const resume = (pid: number) => (stopped.delete(pid), thaw(pid));
  let owner: (instance: string) => number;

  before(async () => {
    pgs = await startPushgateways(2);
    d = await spawnWorkers(
      pgs.map((p) => p.url),
      2,
      ["--upstream-timeout", "3s"],
    );
    await waitFor("both workers serving", async () => children(d.proc.pid as number).length === 2 && (await fetch(`${d.url}/-/ready`)).ok);
    const ring = new Ring(["healthy", "healthy"], await loadHash64());
    owner = (instance) => ring.owner(routingKey({ job: "gate", labels: { instance } })) as number;
    await sleep(500); // the start-up run is over
  });
  after(async () => {
    for (const pid of stopped) process.kill(pid, "SIGCONT");
    await d?.stop("SIGKILL");
    await stopAll(pgs ?? []);
  });

  /** A group on the instance that does not own it, as a dyshard with another view would leave it. */
  async function misplace(instance: string): Promise<void> {
    assert.equal((await push(pgs[1 - owner(instance)]!.url, `/metrics/job/gate/instance/${instance}`, "v 1\n")).status, 200);
  }
  /** After a pause: the paused worker takes one new connection at most; this spends it. */
  async function spend(): Promise<void> {
    for (let i = 0; i < 4; i++) if ((await once(d.url, "GET", "/-/healthy", "", 300)) === "no answer") return;
    assert.fail("the paused worker took none of 4 connections");
  }
  async function rebalance(ms: number) {
    const t0 = performance.now();
    const r = await once(d.url, "POST", "/-/dyshard/rebalance", "", ms);
    return {
      answer: r,
      at: performance.now(),
      ms: performance.now() - t0,
      copied: r === "no answer" ? -1 : (JSON.parse(r.text) as { copied: number }).copied,
    };
  }

  it("a worker SIGKILLed while a move waits for it: the rebalance answers within 1.5 s, another worker is forked and takes part in the next move and serves pushes", async () => {
    const [a, b] = children(d.proc.pid as number) as [number, number];
    await misplace("g1");
    await pause(a);
    await spend();
    const asked = rebalance(10_000);
    await sleep(700);
    process.kill(a, "SIGKILL");
    stopped.delete(a);
    const killedAt = performance.now();
    const first = await asked;
    const afterKill = first.at - killedAt;
    process.stdout.write(
      `# worker SIGKILLed during a move: rebalance ${first.answer === "no answer" ? "not answered within 10 s" : `answered ${afterKill.toFixed(0)} ms after the kill`}\n`,
    );
    assert.notEqual(first.answer, "no answer");
    assert.ok(afterKill < 1500, `answered ${afterKill.toFixed(0)} ms after the kill`);
    assert.equal(first.copied, 1);

    await waitFor("a new worker", async () => children(d.proc.pid as number).filter((p) => p !== a && p !== b).length === 1);
    await sleep(300);
    await misplace("g2");
    const next = await rebalance(10_000);
    assert.notEqual(next.answer, "no answer");
    assert.ok(next.ms < 1500 && next.copied === 1, `next run: ${JSON.stringify(next)}`);
    // With the older worker paused, the new one serves every push.
    await pause(b);
    try {
      await spend();
      for (let i = 0; i < 3; i++)
        assert.deepEqual(await once(d.url, "PUT", `/metrics/job/gate/instance/g2`, "v 2\n"), { status: 200, text: "" });
    } finally {
      await resume(b);
    }
    assert.ok(d.output().includes("worker died"), "the death is logged");
  });

  it("a worker that stays hung is given up on after upstream timeout + 1 s (4 s, + 1.5 s); resumed, it serves the moved group", async () => {
    const [w] = children(d.proc.pid as number) as [number];
    await misplace("g3");
    await pause(w);
    let r: Awaited<ReturnType<typeof rebalance>>;
    try {
      await spend();
      r = await rebalance(10_000);
    } finally {
      await resume(w);
    }
    process.stdout.write(
      `# hung worker during a move: rebalance ${r.answer === "no answer" ? "not answered within 10 s" : `answered in ${r.ms.toFixed(0)} ms`}\n`,
    );
    assert.notEqual(r.answer, "no answer");
    assert.ok(r.ms < 5500, `answered in ${r.ms.toFixed(0)} ms`);
    assert.equal(r.copied, 1);
    assert.match(d.output(), /did not acknowledge/);
    // Its gate for the moved group was opened although it acknowledged late: pushes pass on both workers.
    for (let i = 0; i < 4; i++)
      assert.deepEqual(await once(d.url, "PUT", `/metrics/job/gate/instance/g3`, "v 3\n"), { status: 200, text: "" }, `push ${i}`);
  });
});
