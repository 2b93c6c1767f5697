// The design card's engine: http-proxy with a keep-alive agent (without one it sends
// `Connection: close` and opens a connection per push) and the fix for its hang when an upstream
// dies mid-answer (routing.md).
import http, { type ClientRequest, type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import httpProxy from "http-proxy";
import type { AttemptResult, Engine, UpstreamRequest } from "./engine.js";

export class HttpProxyEngine implements Engine {
  readonly name = "http-proxy";
  private readonly agents = { http: new http.Agent({ keepAlive: true, maxSockets: 256 }), https: new https.Agent({ keepAlive: true, maxSockets: 256 }) };
  private readonly proxy = httpProxy.createProxyServer({ changeOrigin: true, xfwd: false });
  /** The outgoing request of each attempt, so that a timeout can abort it. */
  private readonly outgoing = new WeakMap<IncomingMessage, (proxyReq: ClientRequest) => void>();

  constructor(private readonly timeoutMs: number) {
    this.proxy.on("proxyReq", (proxyReq, req) => this.outgoing.get(req)?.(proxyReq));
    this.proxy.on("proxyRes", (proxyRes, _req, res) => {
      proxyRes.on("close", () => {
        if (!proxyRes.complete && !res.writableEnded) res.destroy();
      });
    });
  }

  forward(upstreamUrl: string, req: UpstreamRequest, res: ServerResponse): Promise<AttemptResult> {
    const incoming = res.req;
    // http-proxy copies the client's headers; give it the cleaned set and the target of this attempt.
    incoming.headers = req.headers as IncomingMessage["headers"];
    incoming.url = req.target;
    return new Promise((resolve) => {
      let proxyReq: ClientRequest | undefined;
      const abort = () => proxyReq?.destroy(req.signal.reason as Error);
      this.outgoing.set(incoming, (r) => {
        proxyReq = r;
        r.setTimeout(this.timeoutMs, () => r.destroy(Object.assign(new Error("upstream timeout"), { code: "UND_ERR_HEADERS_TIMEOUT" })));
        if (req.signal.aborted) abort();
      });
      req.signal.addEventListener("abort", abort, { once: true });
      const done = (result: AttemptResult) => {
        req.signal.removeEventListener("abort", abort);
        resolve(result);
      };
      res.once("close", () => done(res.headersSent ? { relayed: true, status: res.statusCode } : { relayed: false, error: new Error("client closed the connection") }));
      const target = new URL(upstreamUrl);
      this.proxy.web(
        incoming,
        res,
        {
          target: upstreamUrl,
          agent: target.protocol === "https:" ? this.agents.https : this.agents.http,
          buffer: Buffer.isBuffer(req.body) ? Readable.from([req.body]) : req.body,
        },
        (error) => {
          if (res.headersSent) res.destroy();
          else done({ relayed: false, error: req.signal.aborted ? req.signal.reason : error });
        },
      );
    });
  }

  async close(): Promise<void> {
    this.proxy.close();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
