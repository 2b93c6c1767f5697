// One behaviour suite, run against both forwarding engines.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import type { App } from "../../src/runtime/single-process.js";
import { startDyshard } from "../support/dyshard.js";
import { freePort } from "../support/ports.js";
import { push } from "../support/push.js";
import { Pushgateway } from "../support/pushgateway.js";
import { exposition } from "../support/raw-upload.js";
import { Recorder } from "../support/recorder.js";

/** A raw request (node:http keeps the path and headers exactly as given). */
function raw(
  base: string,
  opts: { method: string; path: string; headers?: http.OutgoingHttpHeaders; body?: Buffer | string; chunks?: Buffer[] },
) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; error?: string }>((resolve) => {
    const u = new URL(base);
    const req = http.request(
      { host: u.hostname, port: u.port, method: opts.method, path: opts.path, headers: opts.headers, agent: false },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on("error", (e) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, error: e.message }));
        res.on("aborted", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, error: "aborted" }));
      },
    );
    req.on("error", (e) => resolve({ status: 0, headers: {}, body: "", error: e.message }));
    if (opts.chunks) {
      for (const c of opts.chunks) req.write(c);
      req.end();
    } else req.end(opts.body);
  });
}

for (const engine of ["undici", "native", "http-proxy"]) {
  describe(`proxy engine ${engine}`, () => {
    let pg: Pushgateway;
    let prefixed: Pushgateway;
    let rec: Recorder;
    let viaPg: App;
    let viaRec: App;
    before(async () => {
      [pg, prefixed, rec] = await Promise.all([Pushgateway.start(), Pushgateway.start(["--web.route-prefix=/pg"]), Recorder.start()]);
      viaPg = await startDyshard([pg.url], { engine });
      viaRec = await startDyshard([rec.url], { engine, upstreamTimeout: "400ms", maxBody: "8MiB" });
    });
    after(async () => {
      await Promise.all([viaPg?.stop(), viaRec?.stop()]);
      await Promise.all([pg?.kill(), prefixed?.kill(), rec?.stop()]);
    });

    it("relays a real Pushgateway's answers unchanged: 200, 202, and its 400 text", async () => {
      assert.equal((await push(viaPg.url, "/metrics/job/e1/instance/a", "e1_value 3\n")).status, 200);
      const held = await pg.groups();
      assert.ok(held.some((g) => g.labels.job === "e1" && g.labels.instance === "a"));
      const bad = "not valid exposition {{\n";
      const direct = await push(pg.url, "/metrics/job/e2", bad);
      const proxied = await push(viaPg.url, "/metrics/job/e2", bad);
      assert.equal(direct.status, 400);
      assert.deepEqual(proxied, direct);
      assert.equal((await push(viaPg.url, "/metrics/job/e1/instance/a", "", "DELETE")).status, 202);
      assert.ok(!(await pg.groups()).some((g) => g.labels.job === "e1"));
    });

    it("reaches an upstream that carries a path prefix", async () => {
      const app = await startDyshard([`${prefixed.url}/pg`], { engine });
      try {
        assert.equal((await push(app.url, "/metrics/job/prefixed", "p 1\n")).status, 200);
        assert.ok((await prefixed.groups("/pg")).some((g) => g.labels.job === "prefixed"));
      } finally {
        await app.stop();
      }
    });

    it("passes body bytes, Content-Encoding, Content-Type, Authorization and the query through; strips hop-by-hop headers", async () => {
      const body = gzipSync("gz_metric 1\n");
      const r = await raw(viaRec.url, {
        method: "POST",
        path: "/metrics/job/h%20x/a/b%3Fc?x=1&y=%2F",
        headers: {
          "content-encoding": "gzip",
          "content-type": "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
          authorization: "Bearer s3cret",
          connection: "keep-alive, x-hop",
          "x-hop": "drop me",
          "keep-alive": "timeout=5",
          te: "trailers",
          "x-custom": "kept",
          "x-latin": "café",
        },
        body,
      });
      assert.equal(r.status, 200);
      const seen = rec.requests.filter((q) => q.method === "POST").at(-1)!; // not a health check's GET
      assert.equal(seen.method, "POST");
      assert.equal(seen.url, "/metrics/job/h%20x/a/b%3Fc?x=1&y=%2F");
      assert.equal(seen.sha256, createHash("sha256").update(body).digest("hex"));
      assert.equal(seen.headers["content-encoding"], "gzip");
      assert.match(String(seen.headers["content-type"]), /protobuf/);
      assert.equal(seen.headers.authorization, "Bearer s3cret");
      assert.equal(seen.headers["x-custom"], "kept");
      assert.equal(seen.headers["x-latin"], "café", "a header byte outside ASCII arrives as sent");
      for (const h of ["x-hop", "keep-alive", "te"]) assert.equal(seen.headers[h], undefined, `${h} must not be forwarded`);
    });

    it("relays the upstream's status, headers and body", async () => {
      rec.behave = (_req, res) =>
        res.writeHead(418, { "content-type": "text/plain", "x-upstream": "yes", "x-latin": "café" }).end("short and stout\n");
      try {
        const r = await raw(viaRec.url, { method: "PUT", path: "/metrics/job/teapot", body: "t 1\n" });
        assert.equal(r.status, 418);
        assert.equal(r.headers["x-upstream"], "yes");
        assert.equal(r.headers["x-latin"], "café");
        assert.equal(r.body, "short and stout\n");
      } finally {
        rec.behave = (_req, res) => res.writeHead(200).end();
      }
    });

    it("streams a body larger than the retry buffer intact, chunked or not", async () => {
      const big = randomBytes(5 * 1024 * 1024);
      const sum = createHash("sha256").update(big).digest("hex");
      assert.equal(
        (await raw(viaRec.url, { method: "PUT", path: "/metrics/job/big", body: big, headers: { "content-length": big.length } })).status,
        200,
      );
      // The last request of that path: the health checks' GET /-/ready are recorded too.
      const last = (path: string) => rec.requests.filter((r) => r.url === path).at(-1)!;
      assert.equal(last("/metrics/job/big").sha256, sum);
      const chunks = Array.from({ length: 10 }, (_, i) => big.subarray(i * 524288, (i + 1) * 524288));
      assert.equal((await raw(viaRec.url, { method: "PUT", path: "/metrics/job/big2", chunks })).status, 200);
      assert.equal(last("/metrics/job/big2").sha256, sum);
      assert.equal(last("/metrics/job/big2").bytes, big.length);
    });

    it("answers 413 for a body over the limit, declared or chunked, and forwards nothing of it", async () => {
      const before = rec.requests.length;
      const declared = await raw(viaRec.url, {
        method: "PUT",
        path: "/metrics/job/huge",
        headers: { "content-length": 9 * 1024 * 1024 },
        body: Buffer.alloc(0),
      });
      assert.equal(declared.status, 413);
      const chunked = await raw(viaRec.url, {
        method: "PUT",
        path: "/metrics/job/huge",
        chunks: Array.from({ length: 9 }, () => Buffer.alloc(1024 * 1024, 97)),
      });
      assert.ok(chunked.status === 413 || chunked.error, `status ${chunked.status}`);
      assert.equal(rec.requests.filter((r) => r.url === "/metrics/job/huge" && r.bytes > 8 * 1024 * 1024).length, 0);
      assert.ok(rec.requests.slice(before).every((r) => r.bytes <= 8 * 1024 * 1024));
    });

    it("answers 504 when the upstream does not answer in time", async () => {
      rec.behave = (_req, res) => setTimeout(() => res.writeHead(200).end(), 1500);
      try {
        const r = await raw(viaRec.url, { method: "PUT", path: "/metrics/job/slow", body: "s 1\n" });
        assert.equal(r.status, 504);
        assert.match(r.body, /did not answer within 400ms/);
      } finally {
        rec.behave = (_req, res) => res.writeHead(200).end();
      }
    });

    it("cuts the client off, rather than leaving it hanging, when the upstream dies mid-answer", async () => {
      rec.behave = (_req, res) => {
        res.writeHead(200, { "content-length": "1000" });
        res.write("partial");
        setTimeout(() => res.socket?.destroy(), 50);
      };
      try {
        const r = await Promise.race([
          raw(viaRec.url, { method: "PUT", path: "/metrics/job/dies", body: "d 1\n" }),
          new Promise<"hang">((res) => setTimeout(() => res("hang"), 3000)),
        ]);
        assert.notEqual(r, "hang");
        assert.ok(typeof r !== "string" && r.error !== undefined, "the client must see a broken answer");
      } finally {
        rec.behave = (_req, res) => res.writeHead(200).end();
      }
    });

    it("reuses upstream connections (keep-alive pool)", async () => {
      const before = rec.connections;
      for (let i = 0; i < 30; i++) await push(viaRec.url, `/metrics/job/ka/i/${i}`, "k 1\n");
      assert.ok(rec.connections - before <= 2, `${rec.connections - before} new connections for 30 pushes`);
    });

    it("retries a held push on the next healthy slot when its owner refuses the connection, and answers 503 when none is left", async () => {
      const closed = `http://127.0.0.1:${await freePort()}`;
      const app = await startDyshard([closed, pg.url], { engine, healthInterval: "60s" });
      try {
        // Find a group the dead slot owns, so the first attempt must fail.
        let i = 0;
        while (app.membership.owner(`{job="retry${i}"}`)?.url !== closed) i++;
        const r = await push(app.url, `/metrics/job/retry${i}`, "r 1\n");
        assert.equal(r.status, 200);
        assert.ok((await pg.groups()).some((g) => g.labels.job === `retry${i}`));
        assert.equal(app.membership.members[0]!.healthy, false);
        assert.match(
          await app.metrics.registry.getSingleMetricAsString("dyshard_upstream_retries_total"),
          /dyshard_upstream_retries_total\{upstream="http:\/\/127\.0\.0\.1:\d+"\} 1/,
        );
        // A body over --retry-body is spooled, so it is sent again too, read from disk once more.
        app.membership.setHealth(0, true, "test: looks up again");
        let j = i + 1;
        while (app.membership.owner(`{job="retry${j}"}`)?.url !== closed) j++;
        const big = exposition("big_retry", 2 * 1024 * 1024).body;
        const spooled = await raw(app.url, {
          method: "PUT",
          path: `/metrics/job/retry${j}`,
          body: big,
          headers: { "content-length": big.length },
        });
        assert.equal(spooled.status, 200, spooled.body);
        assert.ok((await pg.groups()).some((g) => g.labels.job === `retry${j}`));
        app.membership.setHealth(1, false, "test: all down");
        const none = await push(app.url, "/metrics/job/nobody", "n 1\n");
        assert.equal(none.status, 503);
        assert.match(none.text, /no healthy upstream/);
      } finally {
        await app.stop();
      }
    });
  });
}
