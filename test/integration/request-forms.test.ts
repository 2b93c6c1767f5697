// Requests at the edge of HTTP, sent byte for byte to a real Pushgateway and through dyshard: the
// same status (and for pushes the same stored group) both ways, or dyshard's documented answer.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startDyshard } from "../support/dyshard.js";
import { closing, rawRequest } from "../support/raw-http.js";
import { Pushgateway, startPushgateways, stopAll } from "../support/pushgateway.js";
import { freeze, thaw } from "../support/freeze.js";

type App = Awaited<ReturnType<typeof startDyshard>>;

describe("request forms: parity with the Pushgateway", () => {
  let reference: Pushgateway;
  let pgs: Pushgateway[];
  let app: App;
  let port: number;
  before(async () => {
    const all = await startPushgateways(3);
    reference = all[0] as Pushgateway;
    pgs = all.slice(1);
    app = await startDyshard(pgs.map((p) => p.url));
    port = Number(new URL(app.url).port);
  });
  after(async () => {
    await app?.stop();
    await stopAll([reference, ...(pgs ?? [])].filter(Boolean));
  });

  const jobsBehind = async () => (await Promise.all(pgs.map((p) => p.groups()))).flat().map((g) => g.labels.job);

  /** The same bytes to both; returns both answers. */
  async function both(request: string) {
    const [real, mine] = await Promise.all([rawRequest(reference.port, request), rawRequest(port, request)]);
    return { real, mine };
  }

  it("routes an absolute-form target (RFC 9112 §3.2.2) as its origin form, and stores the group", async () => {
    const { real, mine } = await both(
      closing("PUT http://127.0.0.1/metrics/job/abs/instance/a1 HTTP/1.1", ["Host: 127.0.0.1"], "abs_v 1\n"),
    );
    assert.equal(real.status, 200);
    assert.equal(mine.status, 200, mine.body);
    assert.ok((await jobsBehind()).includes("abs"), "the group is stored behind dyshard");
    const query = await rawRequest(
      port,
      closing("PUT http://127.0.0.1:9091/metrics/job/abs2?x=1 HTTP/1.1", ["Host: 127.0.0.1"], "abs_v 2\n"),
    );
    assert.equal(query.status, 200, query.body);
    assert.ok((await jobsBehind()).includes("abs2"));
  });

  it("answers OPTIONS * with 200 and CONNECT with 404, as Go's server does", async () => {
    const options = await both(closing("OPTIONS * HTTP/1.1"));
    assert.equal(options.real.status, 200);
    assert.equal(options.mine.status, 200);
    const connect = await both(closing("CONNECT 127.0.0.1:443 HTTP/1.1", ["Host: 127.0.0.1:443"]));
    assert.equal(connect.real.status, 404);
    assert.equal(connect.mine.status, 404, "an answer, not a closed connection");
    assert.equal(connect.mine.body, connect.real.body);
  });

  it("refuses two Host headers with 400 and stores nothing", async () => {
    const { real, mine } = await both(closing("PUT /metrics/job/twohosts HTTP/1.1", ["Host: a", "Host: b"], "th 1\n"));
    assert.equal(real.status, 400);
    assert.equal(mine.status, 400);
    assert.equal(mine.body, real.body);
    assert.ok(!(await jobsBehind()).includes("twohosts"));
  });

  it("answers methods Node's parser does not know (lowercase, invented) as the Pushgateway's router does", async () => {
    for (const line of [
      "put /metrics/job/lower HTTP/1.1",
      "pUT /metrics/job/lower/a/ HTTP/1.1",
      "FOO /metrics HTTP/1.1",
      "get /-/ready HTTP/1.1",
      "get /nothing/here HTTP/1.1",
      "PATCH /metrics HTTP/1.1",
      "PATCH /metrics/job/p HTTP/1.1",
    ]) {
      const { real, mine } = await both(closing(line));
      assert.equal(mine.status, real.status, `${line}: dyshard ${mine.status} ${mine.body}, Pushgateway ${real.status}`);
      assert.equal(mine.headers.allow, real.headers.allow, `${line}: Allow`);
      assert.equal(mine.body, real.body, `${line}: body`);
    }
  });

  it("takes a 20 KiB header and a 20 KiB path as the Pushgateway does, and 431 only past --max-header-size", async () => {
    const long = "x".repeat(20 * 1024);
    const header = await both(closing("PUT /metrics/job/bighead HTTP/1.1", ["Host: x", `X-Note: ${long}`], "bh 1\n"));
    assert.equal(header.real.status, 200);
    assert.equal(header.mine.status, 200, `dyshard: ${header.mine.status}`);
    const path = await both(closing(`PUT /metrics/job/bigpath/note/${long} HTTP/1.1`, ["Host: x"], "bp 1\n"));
    assert.equal(path.real.status, 200);
    assert.equal(path.mine.status, 200, `dyshard: ${path.mine.status}`);
    const small = await startDyshard(
      pgs.map((p) => p.url),
      { maxHeaderSize: "8KiB" },
    );
    try {
      const refused = await rawRequest(
        Number(new URL(small.url).port),
        closing("PUT /metrics/job/bighead2 HTTP/1.1", ["Host: x", `X-Note: ${long}`], "bh 1\n"),
      );
      assert.equal(refused.status, 431);
    } finally {
      await small.stop();
    }
  });

  it("answers raw UTF-8 bytes in the target with a 400 that says how to send them (documented difference)", async () => {
    const line = Buffer.concat([Buffer.from("PUT /metrics/job/caf"), Buffer.from("é", "utf8"), Buffer.from(" HTTP/1.1")]).toString(
      "latin1",
    );
    const mine = await rawRequest(port, closing(line, ["Host: x"], "c 1\n"));
    assert.equal(mine.status, 400);
    assert.match(mine.body, /percent-encode/);
    const encoded = await rawRequest(port, closing("PUT /metrics/job/caf%C3%A9 HTTP/1.1", ["Host: x"], "c 1\n"));
    assert.equal(encoded.status, 200);
    assert.ok((await jobsBehind()).includes("café"));
  });
});

describe("client timeouts and health reasons", () => {
  let pgs: Pushgateway[];
  before(async () => {
    pgs = await startPushgateways(2);
  });
  after(async () => {
    for (const p of pgs ?? []) if (p.pid) process.kill(p.pid, "SIGCONT");
    await stopAll(pgs ?? []);
  });

  it("closes a client that dribbles its headers within 2 s of --client-header-timeout 1s", async () => {
    const app = await startDyshard(
      pgs.map((p) => p.url),
      { clientHeaderTimeout: "1s" },
    );
    try {
      const { port } = new URL(app.url);
      const net = await import("node:net");
      const started = Date.now();
      const closedAfter = await new Promise<number>((resolve) => {
        const s = net.connect(Number(port), "127.0.0.1", () => s.write("PUT /metrics/job/slow HTTP/1.1\r\n"));
        const drip = setInterval(() => s.writable && s.write("X-A: b\r\n"), 200);
        s.on("error", () => {});
        s.on("close", () => {
          clearInterval(drip);
          resolve(Date.now() - started);
        });
        setTimeout(() => s.destroy(), 8000).unref();
      });
      assert.ok(closedAfter >= 900 && closedAfter < 2000, `closed after ${closedAfter} ms`);
    } finally {
      await app.stop();
    }
  });

  it("names a health check's timeout in words on /-/dyshard/ring, not as a bare code", async () => {
    const app = await startDyshard(
      pgs.map((p) => p.url),
      { healthInterval: "100ms", healthTimeout: "300ms", healthFall: "2" },
    );
    const pid = pgs[1]!.pid!;
    try {
      await freeze(pid);
      const deadline = Date.now() + 5000;
      let reason = "";
      while (Date.now() < deadline) {
        const ring = (await (await fetch(`${app.url}/-/dyshard/ring`)).json()) as { slots: { state: string; reason: string }[] };
        reason = ring.slots[1]!.reason;
        if (ring.slots[1]!.state !== "healthy") break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(reason, /failing checks of \/-\/ready: timed out after 300ms/);
    } finally {
      await thaw(pid);
      await app.stop();
    }
  });
});
