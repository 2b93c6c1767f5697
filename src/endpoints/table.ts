// dyshard's own endpoints, by path. A new endpoint is a file beside this one, registered here.
import type { ServerResponse } from "node:http";
import type { RequestContext } from "../http/context.js";
import { notFound, text } from "../http/answers.js";
import { GET_ALLOW, isGetOnlyPath } from "../http/raw-answers.js";
import { apiMetrics } from "./api-metrics.js";
import { apiStatus } from "./api-status.js";
import { apiWipe } from "./api-wipe.js";
import type { Endpoint } from "./endpoint.js";
import { group } from "./group.js";
import { healthy } from "./healthy.js";
import { metrics } from "./metrics.js";
import { ready } from "./ready.js";
import { rebalance } from "./rebalance.js";
import { ring } from "./ring.js";
import { sd } from "./sd.js";
import { statusPage } from "./status-page.js";
import { status } from "./status.js";

export const ENDPOINTS: readonly Endpoint[] = [
  metrics,
  healthy,
  ready,
  ring,
  rebalance,
  sd,
  status,
  statusPage,
  group,
  apiMetrics,
  apiStatus,
  apiWipe,
];

const byPath = new Map(ENDPOINTS.map((e) => [e.path, e]));

/** dyshard's endpoint at this path (no query), if any. */
export function endpointAt(path: string): Endpoint | undefined {
  return byPath.get(path);
}

/** Serves a request that is no push: an endpoint of the table, else the Pushgateway's 405 or 404. */
export function serveOwn(ctx: RequestContext, method: string, target: string, res: ServerResponse): Promise<void> | undefined {
  const path = target.split("?")[0] as string;
  const endpoint = byPath.get(path);
  if (endpoint?.methods.includes(method)) return endpoint.serve(ctx, target, res) ?? undefined;
  if (endpoint) text(res, 405, endpoint.refused.body, { allow: endpoint.refused.allow });
  // A Pushgateway path dyshard does not serve: its router's 405 for a method it would not route.
  else if (method !== "GET" && method !== "HEAD" && isGetOnlyPath(path)) text(res, 405, "Method Not Allowed\n", { allow: GET_ALLOW });
  else notFound(res);
  return undefined;
}
