// A client that stops sending its body is answered 408 after --client-body-timeout, and stalled
// uploads cannot take the memory that makes small pushes retryable on failover.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startDyshard } from "../support/dyshard.js";
import { pushgatewaysAndSpool } from "../support/spool-fixture.js";
import { push } from "../support/push.js";
import type { Pushgateway } from "../support/pushgateway.js";
import { RawUpload } from "../support/raw-upload.js";

const sleep = (ms: number) => new Promise<undefined>((r) => setTimeout(() => r(undefined), ms));

describe("client body timeout", () => {
  const fixture = pushgatewaysAndSpool(2);

  for (const engine of ["undici", "native", "http-proxy"]) {
    it(`answers 408 (Connection: close, then closes) within 1 to 2 s to a body that stalls, whether held, spooled or streamed (--client-body-timeout 1s, ${engine})`, async () => {
      // 64 KiB held, 128 KiB spooled; past 128 KiB of spool a body streams.
      const app = await startDyshard(
        fixture.pgs.map((p) => p.url),
        { engine, clientBodyTimeout: "1s", retryBody: "64KiB", maxSpool: "128KiB", spoolDir: fixture.spoolDir },
      );
      const uploads: RawUpload[] = [];
      try {
        for (const [job, length] of [
          ["held", 1000],
          ["spooled", 100 * 1024],
          ["streamed", 1024 * 1024],
        ] as const) {
          const u = await RawUpload.open(app.url, `/metrics/job/${job}`, length);
          u.send("stall_metric 1\n");
          uploads.push(u);
        }
        const started = performance.now();
        const answered = await Promise.all(uploads.map(async (u) => ({ status: await u.answer(4000), ms: performance.now() - started })));
        process.stdout.write(
          `# stalled bodies (${engine}; held, spooled, streamed): ${answered.map((a) => `${a.status || "no answer"} after ${a.ms.toFixed(0)} ms`).join(", ")}\n`,
        );
        for (const [i, u] of uploads.entries()) {
          const { status, ms } = answered[i]!;
          assert.equal(status, 408, `upload ${i}: ${u.received || "no answer"}`);
          assert.ok(ms >= 900 && ms < 2000, `upload ${i} answered after ${ms.toFixed(0)} ms`);
          assert.equal(u.header("connection"), "close");
          assert.match(u.answerBody, /body did not arrive within 1000ms/);
          await Promise.race([u.closed, sleep(1000).then(() => assert.fail(`upload ${i}: connection left open after the 408`))]);
        }
      } finally {
        for (const u of uploads) u.close();
        await app.stop();
      }
    });
  }

  it("still retries a small push on failover beside 32 stalled uploads of 1 MiB (owner SIGKILLed: 200 from the next owner)", async () => {
    // No active checks: only the refused connection tells dyshard the owner is gone.
    const app = await startDyshard(
      fixture.pgs.map((p) => p.url),
      { healthInterval: "60s", spoolDir: fixture.spoolDir },
    );
    const stalled: RawUpload[] = [];
    try {
      for (let i = 0; i < 32; i++) {
        const u = await RawUpload.open(app.url, `/metrics/job/stalled${i}`, 1024 * 1024);
        u.send("s");
        stalled.push(u);
      }
      await sleep(300); // dyshard has read every head and its first byte
      const [dead, next] = fixture.pgs as [Pushgateway, Pushgateway];
      let i = 0;
      while (app.membership.owner(`{job="victim${i}"}`)?.url !== dead.url) i++;
      await dead.kill();
      const r = await push(app.url, `/metrics/job/victim${i}`, "victim_metric 1\n");
      process.stdout.write(`# small push to a dead owner beside 32 stalled uploads: ${r.status} ${r.text.trim()}\n`);
      assert.equal(r.status, 200, r.text);
      assert.ok((await next.groups()).some((g) => g.labels.job === `victim${i}`));
      assert.ok(
        stalled.every((u) => u.status === 0),
        "the stalled uploads are still waiting (default timeout 60s)",
      );
    } finally {
      for (const u of stalled) u.close();
      await app.stop();
    }
  });
});
