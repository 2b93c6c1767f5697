// The default engine: one undici Pool (keep-alive connections) per upstream origin.
import type { ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { Pool } from "undici";
import type { AttemptResult, Engine, UpstreamRequest } from "./engine.js";
import { forwardableHeaders } from "./headers.js";

export class UndiciEngine implements Engine {
  readonly name = "undici";
  private readonly pools = new Map<string, { pool: Pool; prefix: string }>();

  constructor(private readonly timeoutMs: number) {}

  async forward(upstreamUrl: string, req: UpstreamRequest, res: ServerResponse): Promise<AttemptResult> {
    const { pool, prefix } = this.poolFor(upstreamUrl);
    let answer;
    try {
      answer = await pool.request({
        method: req.method as "PUT",
        path: prefix + req.target,
        headers: req.headers as Record<string, string>,
        body: req.body,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (error) {
      return { relayed: false, error };
    }
    res.writeHead(answer.statusCode, forwardableHeaders(answer.headers));
    try {
      await pipeline(answer.body, res);
    } catch {
      res.destroy(); // cut off mid-answer: the client must see a broken response, not hang
    }
    return { relayed: true, status: answer.statusCode };
  }

  private poolFor(upstreamUrl: string): { pool: Pool; prefix: string } {
    let entry = this.pools.get(upstreamUrl);
    if (!entry) {
      const url = new URL(upstreamUrl);
      entry = { pool: new Pool(url.origin, { connections: 256, keepAliveTimeout: 30_000 }), prefix: url.pathname.replace(/\/$/, "") };
      this.pools.set(upstreamUrl, entry);
    }
    return entry;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map(({ pool }) => pool.close().catch(() => pool.destroy())));
    this.pools.clear();
  }
}
