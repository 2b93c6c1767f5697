// The HTTP listener: the server, its limits, and the pipeline every request passes
// (src/http/steps). A new step (auth, say) is a file in steps/, put in order in STEPS. With a
// certificate (--tls-cert, ./serving-tls.ts) the same server speaks HTTPS.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import { answer } from "../proxy/forwarder.js";
import { limitConnections } from "./connection-limit.js";
import type { RequestContext } from "./context.js";
import { connectionLimit } from "./max-connections.js";
import { runPipeline, type Step } from "./pipeline.js";
import { onClientError, onConnect } from "./raw-answers.js";
import { authenticate } from "./steps/authenticate.js";
import { dispatch } from "./steps/dispatch.js";
import { oneHost } from "./steps/one-host.js";
import { requestTarget } from "./steps/request-target.js";
import type { CertPair } from "./serving-tls.js";

export const STEPS: readonly Step[] = [requestTarget, oneHost, authenticate, dispatch];

export function createListener(ctx: RequestContext, tls?: CertPair): http.Server {
  const { limits } = ctx.config;
  const options: http.ServerOptions = {
    headersTimeout: limits.clientHeaderTimeoutMs,
    requestTimeout: 0, // large pushes may take long; --client-body-timeout ends a stalled body instead
    keepAliveTimeout: limits.clientIdleTimeoutMs,
    // Node looks for expired header timeouts only this often (30 s by default): the flag's value
    // must hold within a fraction of itself.
    connectionsCheckingInterval: checkingInterval(limits.clientHeaderTimeoutMs),
    maxHeaderSize: limits.maxHeaderBytes,
  };
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    try {
      runPipeline(STEPS, ctx, req, res)?.catch((err: unknown) => failed(ctx, res, err));
    } catch (err) {
      failed(ctx, res, err);
    }
  };
  const server = tls ? https.createServer({ ...options, ...tls }, serve) : http.createServer(options, serve);
  limitConnections(server, connectionLimit(limits.maxConnections, ctx.config.workers), ctx.metrics.connections);
  server.on("clientError", onClientError);
  server.on("connect", onConnect);
  return server;
}

export function checkingInterval(headerTimeoutMs: number): number {
  return Math.min(1000, Math.max(50, Math.floor(headerTimeoutMs / 4)));
}

function failed(ctx: RequestContext, res: ServerResponse, err: unknown): void {
  ctx.log.error({ err }, "request failed");
  answer(res, 500, "internal error in dyshard");
}
