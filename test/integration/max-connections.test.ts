// --max-connections: a connection past it is answered 503 (Retry-After, Connection: close) and
// counted, dyshard serves again once connections close, and --workers share the limit out.
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { spawnDyshard, spawnWorkers, type DyshardProcess } from "../support/dyshard.js";
import { closing, rawRequest } from "../support/raw-http.js";
import { startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";
import { scrapeValues } from "../support/scrape.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("--max-connections", () => {
  let pgs: Pushgateway[] = [];
  before(async () => (pgs = await startPushgateways(2)));
  after(() => stopAll(pgs));

  it("answers 503 with Retry-After to connections past --max-connections 50, counts each in dyshard_connections_refused_total, and serves again once they close", async () => {
    const d = await spawnDyshard(["--max-connections", "50", "--log-level", "warn", ...pgs.flatMap((p) => ["--upstream", p.url])]);
    await refusesPastTheLimit(d, 50, 20);
  });

  it("shares --max-connections 20 out among --workers 2 (10 each): the 21st connection is answered 503, whichever worker it reaches, and the workers' counts are summed", async () => {
    const d = await spawnWorkers(
      pgs.map((p) => p.url),
      2,
      ["--max-connections", "20", "--log-level", "warn"],
    );
    await refusesPastTheLimit(d, 20, 5);
  });
});

/**
 * Fills dyshard with `max` idle connections, sees `extra` more refused and counted, then closes
 * them and is served. Under node:cluster a worker that is not listening yet takes no connection,
 * so the other may fill first and refuse while the rest still have room: those count too.
 */
async function refusesPastTheLimit(d: DyshardProcess, max: number, extra: number): Promise<void> {
  const port = Number(new URL(d.url).port);
  const held: net.Socket[] = [];
  let refusedFilling = 0;
  try {
    for (const deadline = Date.now() + 15_000; held.length < max && Date.now() < deadline;) {
      const s = await idleConnection(port);
      if (s) held.push(s);
      else {
        refusedFilling++; // a worker still starting: the others are full
        await sleep(100);
      }
    }
    const refused = await Promise.all(
      Array.from({ length: extra }, () => rawRequest(port, closing("PUT /metrics/job/late HTTP/1.1", ["Host: x"], "late 1\n"))),
    );
    process.stdout.write(
      `# --max-connections ${max}: ${held.length} held (${refusedFilling} refused while filling), the next ${extra}: ${refused.map((r) => r.status).join(" ")}; ${refused[0]?.body.trim()}\n`,
    );
    assert.equal(held.length, max);
    for (const r of refused) {
      assert.equal(r.status, 503, r.body);
      assert.equal(r.headers["retry-after"], "1");
      assert.equal(r.headers.connection, "close");
      assert.match(r.body, /too many open connections \(--max-connections\)/);
    }
    for (const s of held.splice(0)) s.destroy(); // (which worker holds which is not known)
    await sleep(200);
    const [refusedTotal, open, limit] = await scrapeValues(
      port,
      "dyshard_connections_refused_total",
      "dyshard_connections_open",
      "dyshard_connections_max",
    );
    process.stdout.write(`# dyshard_connections_refused_total ${refusedTotal}, _open ${open}, _max ${limit}\n`);
    assert.equal(refusedTotal, extra + refusedFilling);
    assert.equal(limit, max);
    assert.equal(open, 1, "the scrape's own connection");
    const served = await rawRequest(port, closing("PUT /metrics/job/after HTTP/1.1", ["Host: x"], "after 1\n"));
    assert.equal(served.status, 200, served.body);
  } finally {
    for (const s of held) s.destroy();
    await d.stop();
  }
}

/** A connection that asked once (GET /-/healthy) and stays open, silent; undefined when answered 503. */
function idleConnection(port: number): Promise<net.Socket | undefined> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => s.write("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"));
    s.once("data", (d: Buffer) => {
      const status = d.toString("latin1").slice(9, 12);
      if (status === "200") return resolve(s);
      s.destroy();
      return status === "503" ? resolve(undefined) : reject(new Error(d.toString("latin1")));
    });
    s.once("error", reject);
  });
}
