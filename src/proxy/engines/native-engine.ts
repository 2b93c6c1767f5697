// The lean engine: HTTP/1.1 written straight onto keep-alive node:net sockets and answers read with
// a minimal parser (src/proxy/engines/http1). It does only what a push needs (one request per connection
// at a time, no redirects, no decompression), which is what makes it cheaper per push than a
// general client: one write per held push, no per-request timer, listeners set once per connection.
import type { ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { clientGone } from "../body.js";
import type { AttemptResult, Engine, UpstreamRequest } from "./engine.js";
import { Codes, upstreamTimeout } from "../../core/errors.js";
import { forwardableRawHeaders, isHeader } from "../headers.js";
import { Pool, type Carried, type Connection } from "./http1/pool.js";
import { ResponseParser, type ResponseHandler } from "./http1/response-parser.js";
import type { UpstreamTls } from "../../upstream/upstream-access.js";
import { Roster, type Rostered } from "../../core/roster.js";

const CONNECTIONS_PER_UPSTREAM = 64;
const IDLE_TIMEOUT_MS = 30_000;

interface Origin {
  pool: Pool;
  /** The upstream URL's path, put before every request target. */
  prefix: string;
}

export class NativeEngine implements Engine {
  readonly name = "native";
  private readonly origins = new Map<string, Origin>();
  private readonly inflight = new Roster<Exchange>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly timeoutMs: number,
    private readonly tls: UpstreamTls = { rejectUnauthorized: true },
  ) {
    // One coarse timer for every deadline instead of one timer per push.
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(1000, timeoutMs / 4))).unref();
  }

  forward(upstreamUrl: string, req: UpstreamRequest, res: ServerResponse): Promise<AttemptResult> {
    const origin = this.originFor(upstreamUrl);
    return new Promise((resolve) => {
      const x = new Exchange(this, origin, req, res, resolve);
      this.inflight.add(x);
      origin.pool.acquire((c) => x.start(c));
    });
  }

  ended(x: Exchange): void {
    this.inflight.delete(x);
  }

  private sweep(): void {
    const now = performance.now();
    for (const x of this.inflight.snapshot()) if (now > x.deadline) x.timeout();
    for (const { pool } of this.origins.values()) pool.sweep(now);
  }

  private originFor(upstreamUrl: string): Origin {
    let o = this.origins.get(upstreamUrl);
    if (o === undefined) {
      const url = new URL(upstreamUrl);
      o = {
        pool: new Pool(url, { connections: CONNECTIONS_PER_UPSTREAM, idleTimeoutMs: IDLE_TIMEOUT_MS, tls: this.tls }),
        prefix: url.pathname.replace(/\/$/, ""),
      };
      this.origins.set(upstreamUrl, o);
    }
    return o;
  }

  async close(): Promise<void> {
    for (const x of this.inflight.snapshot()) x.abort();
    clearInterval(this.sweeper);
    for (const { pool } of this.origins.values()) pool.destroy();
    this.origins.clear();
  }
}

/** One attempt: a request written onto a connection and its answer relayed to the client. */
class Exchange implements Carried, ResponseHandler, Rostered {
  deadline: number;
  rosterIndex = -1;
  private conn: Connection | undefined;
  private parser: ResponseParser;
  private status = 0;
  private bodySent = false;
  /** Carried by a connection that served before: the upstream may have closed it meanwhile. */
  private reused = false;
  private retried = false;
  private finished = false;
  /** Stops a streamed body's relay. */
  private unpipe: (() => void) | undefined;

  constructor(
    private readonly engine: NativeEngine,
    private readonly origin: Origin,
    private readonly req: UpstreamRequest,
    private readonly res: ServerResponse,
    private readonly resolve: (r: AttemptResult) => void,
  ) {
    this.parser = new ResponseParser(this, req.method === "HEAD");
    this.deadline = performance.now() + engine.timeoutMs;
  }

  start(c: Connection): void {
    if (this.finished) return this.origin.pool.release(c, true); // timed out while queued
    this.conn = c;
    c.carrying = this;
    this.reused = ++c.uses > 1;
    const { req } = this;
    let head = `${req.method} ${this.origin.prefix}${req.target} HTTP/1.1\r\nhost: ${this.origin.pool.host}\r\n`;
    let declared: string | undefined;
    const h = req.headers;
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i] as string;
      // The body's framing is this engine's to write (the Forwarder has dropped Transfer-Encoding).
      if (isHeader(name, "content-length")) declared = h[i + 1];
      else head += `${name}: ${h[i + 1]}\r\n`;
    }
    const body = req.body;
    if (Buffer.isBuffer(body)) {
      head += `content-length: ${body.length}\r\n\r\n`;
      // Head and body in one write: the socket sends them in one segment.
      c.socket.cork();
      c.socket.write(head, "latin1");
      if (body.length > 0) c.socket.write(body);
      c.socket.uncork();
      this.bodySent = true;
      return;
    }
    const chunked = declared === undefined;
    c.socket.write(head + (chunked ? "transfer-encoding: chunked\r\n\r\n" : `content-length: ${declared}\r\n\r\n`), "latin1");
    this.stream(c, body, chunked);
  }

  /** Streams a body too large to hold, with backpressure both ways. */
  private stream(c: Connection, body: Readable, chunked: boolean): void {
    const socket = c.socket;
    const onDrain = () => body.resume();
    const onData = (chunk: Buffer) => {
      this.deadline = performance.now() + this.engine.timeoutMs;
      let ok: boolean;
      if (chunked) {
        socket.cork();
        socket.write(`${chunk.length.toString(16)}\r\n`, "latin1");
        socket.write(chunk);
        ok = socket.write("\r\n", "latin1");
        socket.uncork();
      } else ok = socket.write(chunk);
      if (!ok) body.pause();
    };
    const detach = () => {
      this.unpipe = undefined;
      body.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
      socket.off("drain", onDrain);
    };
    this.unpipe = detach;
    const onEnd = () => {
      detach();
      if (chunked) socket.write("0\r\n\r\n", "latin1");
      this.bodySent = true;
    };
    const onError = (err: Error) => {
      detach();
      this.fail(err, true);
    };
    // A client that goes away mid-body ends its request without an "end".
    const onClose = () => {
      if (!body.readableEnded) onError(clientGone());
    };
    body.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
    socket.on("drain", onDrain);
    body.resume();
  }

  onData(chunk: Buffer): void {
    this.deadline = performance.now() + this.engine.timeoutMs;
    try {
      this.parser.execute(chunk);
    } catch (err) {
      this.fail(err as Error, true);
    }
  }

  onHead(status: number, headers: string[]): void {
    this.status = status;
    if (!this.res.destroyed) this.res.writeHead(status, forwardableRawHeaders(headers));
  }

  onBody(chunk: Buffer): void {
    const { res } = this;
    if (res.destroyed || res.write(chunk)) return;
    const socket = this.conn?.socket;
    socket?.pause();
    res.once("drain", () => socket?.resume());
  }

  onEnd(reusable: boolean): void {
    if (this.finished) return;
    this.finished = true;
    this.unpipe?.();
    this.res.end();
    const c = this.conn as Connection;
    this.conn = undefined;
    // An answer that came before the whole body was sent leaves the connection mid-request.
    this.origin.pool.release(c, reusable && this.bodySent);
    this.engine.ended(this);
    this.resolve({ relayed: true, status: this.status });
  }

  onClose(error: Error | undefined): void {
    try {
      this.parser.finish(); // an answer that runs to the connection's end ends here
    } catch (err) {
      this.fail(error ?? closedEarly(err as Error), false);
    }
  }

  abort(): void {
    this.retried = true; // not to be sent again
    this.fail(new Error("dyshard is shutting down"), true);
  }

  timeout(): void {
    this.fail(upstreamTimeout(this.engine.timeoutMs), true);
  }

  private fail(error: Error, destroy: boolean): void {
    if (this.finished) return;
    const c = this.conn;
    this.conn = undefined;
    if (c !== undefined) {
      c.carrying = undefined;
      if (destroy) c.socket.destroy();
    }
    // A kept-alive connection the upstream had closed meanwhile: one more try on a fresh one.
    if (
      this.reused &&
      !this.retried &&
      !this.parser.started &&
      Buffer.isBuffer(this.req.body) &&
      (error as { code?: string }).code !== Codes.UPSTREAM_TIMEOUT
    ) {
      this.retried = true;
      this.parser = new ResponseParser(this, this.req.method === "HEAD");
      return this.start(this.origin.pool.connect());
    }
    this.finished = true;
    this.unpipe?.();
    this.engine.ended(this);
    if (this.status === 0) return this.resolve({ relayed: false, error });
    this.res.destroy(); // cut off mid-answer: the client must see a broken response, not hang
    this.resolve({ relayed: true, status: this.status });
  }
}

/** The upstream closed the connection cleanly (no socket error) before its answer was complete. */
function closedEarly(parseError: Error): Error {
  return Object.assign(new Error(`upstream closed the connection: ${parseError.message}`), { code: "ECONNRESET" });
}
