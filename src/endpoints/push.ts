// A push path: proxied to its owner by the forwarder (proxy mode) or redirected there (redirect
// mode); a path the Pushgateway would refuse gets its answer here. Every answer is counted.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestContext } from "../http/context.js";
import { answer, noHealthyUpstream, type Outcome } from "../proxy/forwarder.js";
import type { Route } from "../routing/route.js";
import { groupPath } from "../pushgateway/exposition.js";
import { withoutEmptyValues } from "../pushgateway/grouping-key.js";

type Push = Exclude<Route, { kind: "other" }>;

export function servePush(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, route: Push): Promise<void> | undefined {
  const r = route.kind === "push" && route.emptyValues ? canonical(route, req) : route;
  const method = req.method ?? "GET";
  const started = performance.now();
  const done = (outcome: Outcome) => ctx.metrics.observe(method, outcome.status, outcome.upstream, (performance.now() - started) / 1000);
  if (r.kind === "push" && ctx.config.mode === "proxy") return ctx.forwarder.forward(req, res, r).then(done);
  if (r.kind === "answer") {
    res.writeHead(r.status, r.headers).end(r.body);
    return void done({ upstream: "none", status: r.status });
  }
  done(redirect(ctx, req.url ?? "/", res, r.key));
  return undefined;
}

/**
 * The twin of a group (an empty-valued label) goes on as the group itself, in path and in what the
 * forwarder, the standby copies and the ledger see: never both on one instance.
 */
function canonical(r: Extract<Push, { kind: "push" }>, req: IncomingMessage): Extract<Push, { kind: "push" }> {
  const group = withoutEmptyValues(r.group);
  req.url = groupPath({ ...group.labels, job: group.job });
  return { kind: "push", key: r.key, group, emptyValues: false };
}

/**
 * Redirect mode: 307 to the owner, with the raw target untouched (docs/facts/pushgateway.md,
 * "Push paths": re-encoding a decoded path would corrupt `%3F` and `#`).
 */
function redirect({ membership }: RequestContext, target: string, res: ServerResponse, key: string): Outcome {
  const owner = membership.owner(key);
  if (owner === undefined) return answer(res, 503, noHealthyUpstream(membership));
  res.writeHead(307, { location: owner.url + target, "content-length": "0" }).end();
  return { upstream: owner.url, status: 307 };
}
