// dyshard's own HTTP calls (health checks, the Pushgateway API for the handover, the CLI's
// readiness probe) on node:http: undici, ~20 MiB of resident memory, is loaded only when it is the
// forwarding engine.
import http from "node:http";
import https from "node:https";

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Longest silence allowed (connecting, waiting for the answer, between body chunks). */
  timeoutMs: number;
  /** An answer body larger than this fails the call (undefined: no limit). */
  maxBytes?: number;
  agents?: Agents;
}

export interface HttpAnswer {
  status: number;
  body: Buffer;
}

export interface Agents {
  http: http.Agent;
  https: https.Agent;
}

/** Keep-alive agents with at most `sockets` connections per origin. */
export function keepAliveAgents(sockets: number): Agents {
  return { http: new http.Agent({ keepAlive: true, maxSockets: sockets }), https: new https.Agent({ keepAlive: true, maxSockets: sockets }) };
}

export class AnswerTooLargeError extends Error {}

/** One request; resolves with the status and the whole body, rejects on a network error or timeout. */
export function httpRequest(url: string, opts: HttpOptions): Promise<HttpAnswer> {
  const target = new URL(url);
  const secure = target.protocol === "https:";
  return new Promise((resolve, reject) => {
    const options = { method: opts.method ?? "GET", headers: opts.headers, agent: secure ? opts.agents?.https : opts.agents?.http };
    const req = (secure ? https : http).request(target, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (opts.maxBytes !== undefined && size > opts.maxBytes) req.destroy(new AnswerTooLargeError(`${url} answered more than ${opts.maxBytes} bytes`));
        else chunks.push(chunk);
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks, size) }));
      res.on("error", reject);
    });
    req.setTimeout(opts.timeoutMs, () => req.destroy(Object.assign(new Error(`${url} did not answer within ${opts.timeoutMs}ms`), { code: "ETIMEDOUT" })));
    req.on("error", reject);
    req.end(opts.body);
  });
}
