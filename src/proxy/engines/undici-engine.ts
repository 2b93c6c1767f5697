// `--engine undici`, the general client: one undici Pool (keep-alive connections) per upstream
// origin, driven through `dispatch` with a handler that writes the answer straight into the
// client's response: no intermediate stream or promise per chunk on the push path.
import type { ServerResponse } from "node:http";
import { Pool, type Dispatcher } from "undici";
import type { AttemptResult, Engine, UpstreamRequest } from "./engine.js";
import { forwardableRawHeaders } from "../headers.js";
import { isUpstreamTimeout, upstreamTimeout } from "../../core/errors.js";
import type { UpstreamTls } from "../../upstream/upstream-access.js";

export class UndiciEngine implements Engine {
  readonly name = "undici";
  private readonly pools = new Map<string, { pool: Pool; prefix: string }>();

  constructor(
    private readonly timeoutMs: number,
    private readonly tls: UpstreamTls = { rejectUnauthorized: true },
  ) {}

  forward(upstreamUrl: string, req: UpstreamRequest, res: ServerResponse): Promise<AttemptResult> {
    const timeoutMs = this.timeoutMs;
    const { pool, prefix } = this.poolFor(upstreamUrl);
    return new Promise((resolve) => {
      let status = 0;
      // undici 7's Pool still takes the classic handler interface.
      const handler = {
        onConnect(abort: (err?: Error) => void) {
          res.once("close", () => {
            if (!res.writableFinished) abort(new Error("client closed the connection"));
          });
        },
        onHeaders(statusCode: number, raw: Buffer[], resume: () => void) {
          if (statusCode < 200) return true; // 1xx: the final answer follows
          status = statusCode;
          res.writeHead(statusCode, forwardableRawHeaders(raw));
          res.on("drain", resume);
          return true;
        },
        onData(chunk: Buffer) {
          return res.write(chunk);
        },
        onComplete() {
          res.end();
          resolve({ relayed: true, status });
        },
        onError(error: Error) {
          // undici's own timeout codes become dyshard's, as the other engines report them.
          if (status === 0) return resolve({ relayed: false, error: isUpstreamTimeout(error) ? upstreamTimeout(timeoutMs) : error });
          res.destroy(); // cut off mid-answer: the client must see a broken response, not hang
          resolve({ relayed: true, status });
        },
      };
      pool.dispatch(
        {
          method: req.method as Dispatcher.HttpMethod,
          path: prefix + req.target,
          headers: req.headers,
          body: req.body,
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
        },
        handler as unknown as Dispatcher.DispatchHandler,
      );
    });
  }

  private poolFor(upstreamUrl: string): { pool: Pool; prefix: string } {
    let entry = this.pools.get(upstreamUrl);
    if (!entry) {
      const url = new URL(upstreamUrl);
      entry = {
        pool: new Pool(url.origin, { connections: 64, keepAliveTimeout: 30_000, connect: { ...this.tls } }),
        prefix: url.pathname.replace(/\/$/, ""),
      };
      this.pools.set(upstreamUrl, entry);
    }
    return entry;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map(({ pool }) => pool.destroy()));
    this.pools.clear();
  }
}
