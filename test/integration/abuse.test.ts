// Overload and abuse, bounded: abusive clients side by side with a normal one cost that client
// little, get the answers they should, and leave dyshard's memory where it was.
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { statusBytes } from "../../bench/cpu.js";
import type { Tally } from "../support/abusers.js";
import { AbusersProcess, mergeTallies } from "../support/abusers-process.js";
import { spawnDyshard, type DyshardProcess } from "../support/dyshard.js";
import { NormalClient, p99 } from "../support/normal-client.js";
import { startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";
import { scrapeValue } from "../support/scrape.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROUNDS = 3;
const ABUSED_MS = 3000;
/** Quiet windows: four of them take as long as the three abused ones, so both meet the machine's load alike. */
const QUIET_MS = 2250;
const MAX_BODY = 256 * 1024;

const rssMiB = (d: DyshardProcess) => (statusBytes(d.proc.pid as number, "VmRSS") ?? NaN) / (1024 * 1024);

/** Every answered status of `kind` is `status` (and there was at least one). */
function allAnswered(tally: Tally, kind: string, status: string): void {
  const got = tally[kind] ?? {};
  assert.ok((got[status] ?? 0) > 0, `${kind}: no ${status} among ${JSON.stringify(got)}`);
  assert.deepEqual(Object.keys(got), [status], `${kind} answered ${JSON.stringify(got)}`);
}

interface Measured {
  quiet: number[];
  abused: number[];
  bound: number;
  tally: Tally;
  openDuring: number;
  rssPeak: number;
}

/** ROUNDS abused windows between quiet ones, so that both meet the machine (others share it) alike. */
async function alternate(d: DyshardProcess, client: NormalClient, abusers: { current?: AbusersProcess }, attempt = 1): Promise<Measured> {
  const port = Number(new URL(d.url).port);
  const quiet = await client.push(Infinity, QUIET_MS);
  const abused: number[] = [];
  const tallies: Tally[] = [];
  let [openDuring, rssPeak] = [Infinity, 0];
  for (let round = 0; round < ROUNDS; round++) {
    abusers.current = await AbusersProcess.start({ port, idle: 2000, maxBody: MAX_BODY });
    openDuring = Math.min(openDuring, await scrapeValue(port, "dyshard_connections_open"));
    rssPeak = Math.max(rssPeak, rssMiB(d));
    abused.push(...(await client.push(Infinity, ABUSED_MS)));
    tallies.push(await abusers.current.stop());
    quiet.push(...(await client.push(Infinity, QUIET_MS)));
  }
  const bound = Math.max(2 * p99(quiet), p99(quiet) + 5);
  process.stdout.write(
    `# normal client p99 (measurement ${attempt}): quiet ${p99(quiet).toFixed(2)} ms (${quiet.length} pushes in ${ROUNDS + 1} windows of ${QUIET_MS / 1000} s), ` +
      `abused ${p99(abused).toFixed(2)} ms (${abused.length} pushes in ${ROUNDS} windows of ${ABUSED_MS / 1000} s, alternating); bound ${bound.toFixed(2)} ms\n`,
  );
  return { quiet, abused, bound, tally: mergeTallies(tallies), openDuring, rssPeak };
}

describe("overload and abuse, bounded", () => {
  let pgs: Pushgateway[] = [];
  before(async () => (pgs = await startPushgateways(2)));
  after(() => stopAll(pgs));

  it("holds a normal client's push p99 to at most max(2x, +5 ms) of its quiet p99 (measured again if the first misses) beside slowloris headers and bodies, 2,000 idle connections, oversized bodies, garbage and clients vanishing mid-body; RSS back within 20% of its start", async () => {
    const limits = ["--max-body", "256KiB", "--client-header-timeout", "2s", "--client-body-timeout", "2s"];
    const d = await spawnDyshard([...limits, "--log-level", "warn", ...pgs.flatMap((p) => ["--upstream", p.url])]);
    const port = Number(new URL(d.url).port);
    const client = new NormalClient(d.url);
    const abusers: { current?: AbusersProcess } = {};
    try {
      // Warm-up: JIT, pools, the Pushgateways' groups, and V8's heap grown to the size 2,000
      // connections need (it keeps that size; what must not happen is growth beyond it).
      await client.push(500);
      abusers.current = await AbusersProcess.start({ port, idle: 2000, maxBody: MAX_BODY });
      await sleep(ABUSED_MS);
      await abusers.current.stop();
      await client.push(400);
      const rssStart = rssMiB(d);

      // On a machine others share, a burst of their load can land in the abused windows: one
      // more measurement then, and the bound holds for that one (both printed).
      let m = await alternate(d, client, abusers);
      if (p99(m.abused) > m.bound) m = await alternate(d, client, abusers, 2);
      const { tally, openDuring, rssPeak } = m;
      process.stdout.write(`# client connections open while abused: at least ${openDuring}; abusers got ${JSON.stringify(tally)}\n`);
      assert.deepEqual(client.failures, [], "every normal push answered 200");
      assert.ok(p99(m.abused) <= m.bound, `abused p99 ${p99(m.abused).toFixed(2)} ms over the bound ${m.bound.toFixed(2)} ms`);

      assert.ok(openDuring >= 2000, `dyshard held ${openDuring} connections`);
      assert.deepEqual(tally.idle, { 200: 2000 * ROUNDS }, "every idle connection was served once and none was closed under it");
      allAnswered(tally, "slow-headers", "408");
      allAnswered(tally, "stalled-body", "408");
      allAnswered(tally, "big-declared", "413");
      allAnswered(tally, "big-chunked", "413");
      allAnswered(tally, "garbage", "400");
      assert.equal(tally["trickled-body"], undefined, "bodies trickled a byte every 500 ms were never cut off");

      // The GC window: RSS falls back as V8 shrinks its heap once allocation has calmed down.
      let rssEnd = rssMiB(d);
      for (const deadline = Date.now() + 10_000; rssEnd > rssStart * 1.2 && Date.now() < deadline; rssEnd = rssMiB(d)) await sleep(500);
      process.stdout.write(
        `# dyshard RSS: start (after a warm-up round) ${rssStart.toFixed(1)} MiB, with 2,000+ connections ${rssPeak.toFixed(1)} MiB, ` +
          `end ${rssEnd.toFixed(1)} MiB (bound ${(rssStart * 1.2).toFixed(1)} MiB)\n`,
      );
      assert.ok(rssEnd <= rssStart * 1.2, `RSS ${rssEnd.toFixed(1)} MiB is over 120% of ${rssStart.toFixed(1)} MiB`);
      assert.equal(
        await scrapeValue(port, "dyshard_connections_open"),
        2,
        "every abuser's connection is gone (left: the client's and the scrape's)",
      );
    } finally {
      abusers.current?.kill();
      await client.close();
      await d.stop();
    }
  });

  it("lets a client still writing a 1 MiB chunked body over --max-body 256KiB read its 413 (dyshard drains before it closes), 100 times of 100", async () => {
    const d = await spawnDyshard(["--max-body", "256KiB", "--log-level", "warn", "--upstream", pgs[0]!.url]);
    try {
      const port = Number(new URL(d.url).port);
      const got: Record<string, number> = {};
      for (let i = 0; i < 100; i++) {
        const status = await oversizedChunked(port, 1024 * 1024);
        got[status] = (got[status] ?? 0) + 1;
      }
      process.stdout.write(`# 1 MiB chunked bodies written at once over --max-body 256KiB: ${JSON.stringify(got)}\n`);
      assert.deepEqual(got, { 413: 100 });
    } finally {
      await d.stop();
    }
  });
});

/** Writes a chunked push of `bytes` in one go and resolves with the status read ("EPIPE" and the like when none came). */
function oversizedChunked(port: number, bytes: number): Promise<string> {
  const chunk = `4000\r\n${"a 1\n".repeat(4096)}\r\n`;
  return new Promise((resolve) => {
    let received = "";
    let error = "";
    const s = net.connect(port, "127.0.0.1", () => {
      s.write("PUT /metrics/job/oversized HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
      for (let sent = 0; sent < bytes; sent += 16_384) s.write(chunk);
    });
    s.on("data", (c: Buffer) => (received += c.toString("latin1")));
    s.on("error", (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    s.on("close", () => resolve(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? (error || "no answer")));
  });
}
