// Large bodies are spooled to disk and forwarded once complete: a slow client never holds an
// upstream connection while its body trickles in, and a large push is retried on failover too.
// Past --max-spool bodies stream, as before, and still arrive intact.
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { request } from "undici";
import type { App } from "../../src/runtime/single-process.js";
import { startDyshard } from "../support/dyshard.js";
import { pushgatewaysAndSpool } from "../support/spool-fixture.js";
import { waitFor } from "../support/ports.js";
import { push } from "../support/push.js";
import type { Pushgateway } from "../support/pushgateway.js";
import { RawUpload, exposition, storedSeries } from "../support/raw-upload.js";

const sleep = (ms: number) => new Promise<undefined>((r) => setTimeout(() => r(undefined), ms));

/** The files under a spool directory (dyshard keeps them in a folder of its own there). */
function spooled(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name));
}

/** `n` jobs whose only group `app` routes to `upstream`. */
function jobsOn(app: App, upstream: string, prefix: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n && i < 100_000; i++)
    if (app.membership.owner(`{job="${prefix}${i}"}`)?.url === upstream) out.push(`${prefix}${i}`);
  return out;
}

async function pushBody(base: string, path: string, body: Buffer): Promise<{ status: number; text: string }> {
  const res = await request(base + path, { method: "PUT", body, headers: { "content-length": String(body.length) } });
  return { status: res.statusCode, text: await res.body.text() };
}

describe("large and slow push bodies", () => {
  const fixture = pushgatewaysAndSpool(2);

  it("answers a small push within 2 s beside 70 slow uploads (2 MiB declared, ~1,000 B/s each) to the same instance; a large push then completes intact", async () => {
    const app = await startDyshard(
      fixture.pgs.map((p) => p.url),
      { retryBody: "64KiB", spoolDir: fixture.spoolDir },
    );
    const target = fixture.pgs[0]!;
    const slow: RawUpload[] = [];
    try {
      const filler = Buffer.from("slow_metric 1\n".repeat(150_000)).subarray(0, 2 * 1024 * 1024);
      for (const job of jobsOn(app, target.url, "slow", 70)) slow.push(await RawUpload.open(app.url, `/metrics/job/${job}`, filler.length));
      for (const u of slow) u.trickleOut(filler, 1000);
      await sleep(1500); // every upload is mid-body now

      const [small] = jobsOn(app, target.url, "small", 1);
      const started = performance.now();
      const r = await Promise.race([push(app.url, `/metrics/job/${small}`, "small_metric 1\n"), sleep(5000)]);
      const ms = performance.now() - started;
      process.stdout.write(`# small push beside 70 slow uploads: ${r ? `${r.status} in ${ms.toFixed(0)} ms` : "no answer within 5 s"}\n`);
      assert.ok(r, "the small push got no answer within 5 s");
      assert.equal(r.status, 200, r.text);
      assert.ok(ms < 2000, `the small push took ${ms.toFixed(0)} ms`);
      assert.ok((await target.groups()).some((g) => g.labels.job === small));
      assert.ok(
        slow.every((u) => u.status === 0),
        "the slow uploads are still in progress",
      );
    } finally {
      for (const u of slow) u.close();
    }
    try {
      // The clients that went away left nothing behind in the spool.
      await waitFor("the spool to be empty", async () => spooled(fixture.spoolDir).length === 0, 3000);
      const [job] = jobsOn(app, target.url, "large", 1);
      const { body, series } = exposition("large_metric", 2 * 1024 * 1024);
      const r = await pushBody(app.url, `/metrics/job/${job}`, body);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(await storedSeries(target, job!, "large_metric"), { series, intact: true });
      assert.deepEqual(spooled(fixture.spoolDir), []);
    } finally {
      await app.stop();
    }
  });

  it("spools a body over --retry-body (a 0600 file in a 0700 folder of --spool-dir, gone once answered); past --max-spool bodies stream and arrive intact, declared or chunked", async () => {
    const app = await startDyshard(
      fixture.pgs.map((p) => p.url),
      { retryBody: "64KiB", maxSpool: "300KiB", spoolDir: fixture.spoolDir },
    );
    try {
      const owner = (job: string) => fixture.pgs.find((p) => p.url === app.membership.owner(`{job="${job}"}`)?.url)!;
      // A slow 256 KiB push: its body is on disk while it trickles in.
      const { body, series } = exposition("spooled_metric", 256 * 1024);
      const slow = await RawUpload.open(app.url, "/metrics/job/spooled", body.length);
      slow.send(body.subarray(0, body.length / 2));
      await waitFor("a spool file", async () => spooled(fixture.spoolDir).length === 1, 3000);
      const [file] = spooled(fixture.spoolDir);
      assert.equal(statSync(file!).mode & 0o777, 0o600);
      assert.equal(statSync(join(file!, "..")).mode & 0o777, 0o700);
      slow.send(body.subarray(body.length / 2));
      assert.equal(await slow.answer(5000), 200, slow.received);
      slow.close();
      assert.deepEqual(await storedSeries(owner("spooled"), "spooled", "spooled_metric"), { series, intact: true });
      await waitFor("the spool file to be deleted", async () => spooled(fixture.spoolDir).length === 0, 2000);

      // A stalled 256 KiB upload takes most of the 300 KiB spool: the next large bodies stream.
      const stalled = await RawUpload.open(app.url, "/metrics/job/stalled", 256 * 1024);
      stalled.send("stalled_metric 1\n");
      await waitFor("the stalled upload to be spooled", async () => spooled(fixture.spoolDir).length === 1, 3000);
      const streamed = await pushBody(app.url, "/metrics/job/streamed", body);
      assert.equal(streamed.status, 200, streamed.text);
      assert.deepEqual(await storedSeries(owner("streamed"), "streamed", "spooled_metric"), { series, intact: true });
      const big = exposition("chunked_metric", 512 * 1024);
      const chunked = await RawUpload.open(app.url, "/metrics/job/chunked", "chunked");
      chunked.sendChunked(big.body, 16 * 1024);
      assert.equal(await chunked.answer(5000), 200, chunked.received);
      chunked.close();
      assert.deepEqual(await storedSeries(owner("chunked"), "chunked", "chunked_metric"), { series: big.series, intact: true });
      stalled.close();
      await waitFor("the stalled upload's file to be deleted", async () => spooled(fixture.spoolDir).length === 0, 2000);

      // A chunked body that fills the spool half way: the spooled part, then the rest, streamed.
      const spilled = await RawUpload.open(app.url, "/metrics/job/spilled", "chunked");
      spilled.sendChunked(big.body, 16 * 1024);
      assert.equal(await spilled.answer(5000), 200, spilled.received);
      spilled.close();
      assert.deepEqual(await storedSeries(owner("spilled"), "spilled", "chunked_metric"), { series: big.series, intact: true });
      await waitFor("the spool to be empty", async () => spooled(fixture.spoolDir).length === 0, 2000);
    } finally {
      await app.stop();
    }
  });

  it("retries a large push (over --retry-body, under --max-spool) on the next owner when its owner is dead: 200, stored there intact", async () => {
    // No active checks: only the refused connection tells dyshard the owner is gone.
    const app = await startDyshard(
      fixture.pgs.map((p) => p.url),
      { retryBody: "64KiB", spoolDir: fixture.spoolDir, healthInterval: "60s" },
    );
    try {
      const [dead, next] = fixture.pgs as [Pushgateway, Pushgateway];
      const [job] = jobsOn(app, dead.url, "failover", 1);
      await dead.kill();
      const { body, series } = exposition("failover_metric", 256 * 1024);
      const r = await pushBody(app.url, `/metrics/job/${job}`, body);
      process.stdout.write(`# large push to a dead owner: ${r.status} ${r.text.trim()}\n`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(await storedSeries(next, job!, "failover_metric"), { series, intact: true });
      assert.match(await app.metrics.registry.getSingleMetricAsString("dyshard_upstream_retries_total"), /\} 1$/m);
      assert.deepEqual(spooled(fixture.spoolDir), []);
    } finally {
      await app.stop();
    }
  });
});
