// The first design's engine: http-proxy with a keep-alive agent (without one it sends
// `Connection: close` and opens a connection per push), a real upstream timeout (its own
// proxyTimeout surfaces as a reset) and the fix for its hang when an upstream dies mid-answer
// (docs/facts/routing.md).
import { EventEmitter } from "node:events";
import http, { type ClientRequest, type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import httpProxy from "http-proxy";
import type { AttemptResult, Engine, UpstreamRequest } from "./engine.js";
import { upstreamTimeout } from "../../core/errors.js";
import type { UpstreamTls } from "../../upstream/upstream-access.js";

export class HttpProxyEngine implements Engine {
  readonly name = "http-proxy";
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly proxy = httpProxy.createProxyServer({ changeOrigin: true, xfwd: false });
  /** Per attempt: hands the outgoing request over, so that a timeout or a failing body can abort it. */
  private readonly attempts = new WeakMap<object, (proxyReq: ClientRequest) => void>();

  constructor(
    private readonly timeoutMs: number,
    private readonly tls: UpstreamTls = { rejectUnauthorized: true },
  ) {
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets: 256 }),
      https: new https.Agent({ keepAlive: true, maxSockets: 256, ...tls }),
    };
    this.proxy.on("proxyReq", (proxyReq, req) => this.attempts.get(req)?.(proxyReq));
    this.proxy.on("proxyRes", (proxyRes, _req, res) => {
      proxyRes.on("close", () => {
        if (!proxyRes.complete && !res.writableEnded) res.destroy();
      });
    });
  }

  forward(upstreamUrl: string, req: UpstreamRequest, res: ServerResponse): Promise<AttemptResult> {
    // http-proxy listens on, and reads the socket of, the request it is given. A stand-in per
    // attempt keeps it off the client's request, which the Forwarder owns (and may retry from).
    const stand = Object.assign(new EventEmitter(), {
      method: req.method,
      url: req.target,
      headers: headerObject(req.headers),
      httpVersion: "1.1",
      socket: { destroyed: false },
      connection: {},
    });
    const body = Buffer.isBuffer(req.body) ? Readable.from([req.body]) : req.body;
    return new Promise((resolve) => {
      let proxyReq: ClientRequest | undefined;
      let settled = false;
      const done = (result: AttemptResult) => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      const fail = (error: unknown) => {
        proxyReq?.destroy();
        if (res.headersSent) {
          res.destroy();
          done({ relayed: true, status: res.statusCode });
        } else done({ relayed: false, error });
      };
      body.once("error", fail);
      this.attempts.set(stand, (r) => {
        proxyReq = r;
        r.setTimeout(this.timeoutMs, () => fail(upstreamTimeout(this.timeoutMs)));
      });
      res.once("close", () =>
        res.headersSent ? done({ relayed: true, status: res.statusCode }) : fail(new Error("client closed the connection")),
      );
      this.proxy.web(
        stand as unknown as IncomingMessage,
        res,
        // http-proxy sets rejectUnauthorized itself (from `secure`, true when not given); the CA comes with the agent.
        { target: upstreamUrl, agent: this.agentFor(upstreamUrl), buffer: body, secure: this.tls.rejectUnauthorized },
        (error) => fail(error),
      );
    });
  }

  private agentFor(upstreamUrl: string): http.Agent {
    return upstreamUrl.startsWith("https:") ? this.agents.https : this.agents.http;
  }

  async close(): Promise<void> {
    this.proxy.close();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

/** http-proxy wants headers as an object; repeated names become lists. */
function headerObject(raw: string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}
