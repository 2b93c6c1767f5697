// The HTTP listener: dyshard's own endpoints, and every push path handed to the router.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Config } from "../config/schema.js";
import type { Cluster } from "../membership/cluster.js";
import type { Metrics } from "../metrics.js";
import { answer, noHealthyUpstream, type Forwarder, type Outcome } from "../proxy/forwarder.js";
import { isHeader } from "../proxy/headers.js";
import { route } from "../router/route.js";
import { UnavailableError } from "../unavailable-error.js";
import type { DataPlaneHandlers } from "./app.js";
import { GET_ALLOW, isGetOnlyPath, onClientError, onConnect } from "./raw-answers.js";

export interface ListenerDeps {
  config: Config;
  cluster: Cluster;
  metrics: Metrics;
  forwarder: Forwarder;
  /** Handled here or, with --workers, by the primary. */
  handlers: DataPlaneHandlers;
  log: Logger;
}

export function createListener(deps: ListenerDeps): http.Server {
  const { config } = deps;
  const server = http.createServer(
    {
      headersTimeout: config.limits.clientHeaderTimeoutMs,
      requestTimeout: 0, // large pushes may take long; --client-body-timeout ends a stalled body instead
      keepAliveTimeout: config.limits.clientIdleTimeoutMs,
      // Node looks for expired header timeouts only this often (30 s by default): the flag's value
      // must hold within a fraction of itself.
      connectionsCheckingInterval: checkingInterval(config.limits.clientHeaderTimeoutMs),
      maxHeaderSize: config.limits.maxHeaderBytes,
    },
    (req, res) => {
      try {
        handle(deps, req, res)?.catch((err: unknown) => failed(deps, res, err));
      } catch (err) {
        failed(deps, res, err);
      }
    },
  );
  server.on("clientError", onClientError);
  server.on("connect", onConnect);
  return server;
}

export function checkingInterval(headerTimeoutMs: number): number {
  return Math.min(1000, Math.max(50, Math.floor(headerTimeoutMs / 4)));
}

function failed(deps: ListenerDeps, res: ServerResponse, err: unknown): void {
  deps.log.error({ err }, "request failed");
  answer(res, 500, "internal error in dyshard");
}

/** Answers at once, or returns the promise of a push being forwarded or an endpoint being served. */
function handle(deps: ListenerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> | undefined {
  const { config, cluster, metrics } = deps;
  const method = req.method ?? "GET";
  let target = req.url ?? "/";
  if (target.charCodeAt(0) !== 0x2f) {
    const origin = originForm(target);
    if (origin === undefined) return void asterisk(method, target, res);
    req.url = target = origin; // forwarded and redirected in the origin form, as the Pushgateway reads it
  }
  if (twoHosts(req.rawHeaders)) return void badRequest(res);
  const r = route(method, target, config.shardBy);
  if (r.kind === "other") return ownEndpoint(deps, method, target, res);

  const started = performance.now();
  const done = (outcome: Outcome) => metrics.observe(method, outcome.status, outcome.upstream, (performance.now() - started) / 1000);
  if (r.kind === "push" && config.mode === "proxy") return deps.forwarder.forward(req, res, r).then(done);
  if (r.kind === "answer") {
    res.writeHead(r.status, r.headers).end(r.body);
    return void done({ upstream: "none", status: r.status });
  }
  const owner = cluster.owner(r.key);
  if (owner === undefined) return void done(answer(res, 503, noHealthyUpstream(cluster)));
  // Redirect mode. The raw target, untouched: re-encoding a decoded path would corrupt `%3F` and `#` (docs/facts/pushgateway.md, "Push paths").
  res.writeHead(307, { location: owner.url + target, "content-length": "0" }).end();
  done({ upstream: owner.url, status: 307 });
}

/**
 * The absolute form (`PUT http://host/metrics/job/j`), which a server must accept (RFC 9112
 * §3.2.2), as its origin form; undefined for anything else that does not start with "/".
 */
export function originForm(target: string): string | undefined {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  if (!m) return undefined;
  const rest = target.slice(m[0].length);
  return rest === "" ? "/" : rest.charCodeAt(0) === 0x2f ? rest : "/" + rest;
}

/** `OPTIONS *` is Go's 200 with no body; any other target not starting with "/" is its 400. */
function asterisk(method: string, target: string, res: ServerResponse): void {
  if (method === "OPTIONS" && target === "*") res.writeHead(200, { "content-length": "0" }).end();
  else badRequest(res);
}

/** Two Host headers: Go refuses the request before routing it (RFC 9112 §3.2 allows one). */
function twoHosts(raw: string[]): boolean {
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) if (isHeader(raw[i] as string, "host") && ++seen > 1) return true;
  return false;
}

function badRequest(res: ServerResponse): void {
  res.writeHead(400, { "content-type": "text/plain; charset=utf-8", connection: "close" }).end("400 Bad Request");
}

async function ownEndpoint(deps: ListenerDeps, method: string, target: string, res: ServerResponse): Promise<void> {
  const path = target.split("?")[0];
  const { cluster } = deps;
  if (path === "/-/dyshard/rebalance") {
    if (method !== "POST") {
      res
        .writeHead(405, { allow: "POST", "content-type": "text/plain; charset=utf-8" })
        .end("use POST to run a handover (add ?dry_run=1 for the plan only)\n");
      return;
    }
    const dryRun = /[?&]dry_run=(1|true)\b/.test(target);
    const report = await deps.handlers.rebalance(dryRun).catch((err: unknown) => {
      if (!(err instanceof UnavailableError)) throw err;
      res.writeHead(503, { "content-type": "text/plain; charset=utf-8" }).end(`${err.message}\n`);
    });
    if (!report) return;
    res
      .writeHead(report.failed > 0 || report.errors.length > 0 ? 500 : 200, { "content-type": "application/json" })
      .end(JSON.stringify(report, null, 2) + "\n");
    return;
  }
  if (method !== "GET" && method !== "HEAD") {
    if (isGetOnlyPath(path ?? ""))
      res.writeHead(405, { allow: GET_ALLOW, "content-type": "text/plain; charset=utf-8" }).end("Method Not Allowed\n");
    else res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("404 page not found\n");
    return;
  }
  switch (path) {
    case "/metrics": {
      const { contentType, text } = await deps.handlers.metrics();
      res.writeHead(200, { "content-type": contentType }).end(text);
      return;
    }
    case "/-/healthy":
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end("OK\n");
      return;
    case "/-/ready": {
      const ready = cluster.healthyCount() > 0;
      res
        .writeHead(ready ? 200 : 503, { "content-type": "text/plain; charset=utf-8" })
        .end(ready ? "OK\n" : noHealthyUpstream(cluster) + "\n");
      return;
    }
    case "/-/dyshard/ring":
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(ringView(deps), null, 2) + "\n");
      return;
    default:
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("404 page not found\n");
  }
}

export function ringView({ config, cluster }: Pick<ListenerDeps, "config" | "cluster">) {
  const slots = cluster.ring.slots.map((state, slot) => {
    const m = cluster.members[slot];
    return {
      slot,
      upstream: m?.url ?? null,
      state,
      healthy: state === "healthy",
      since: m ? new Date(m.since).toISOString() : null,
      reason: m?.reason ?? "no upstream configured for this slot",
    };
  });
  return {
    mode: config.mode,
    shard_by: config.shardBy,
    slot_count: slots.length,
    healthy_members: cluster.healthyCount(),
    upstreams: cluster.active().map((m) => m.url),
    slots,
  };
}
