// GET /-/dyshard/sd: the Pushgateways as Prometheus http_sd JSON, for http_sd_configs (which every
// Prometheus build has; Debian's has no Consul discovery: docs/facts/prometheus.md).
//   ?healthy=1          only healthy Pushgateways
//   ?shard=I&of=K       only what server I of K keeps under the seed-002 hashmod rule
//   ?prometheus=NAME    only the Pushgateways allocated to that server (--prometheus)
import type { ServerResponse } from "node:http";
import { UnavailableError } from "../core/unavailable-error.js";
import { json, notFound, text } from "../http/answers.js";
import type { RequestContext } from "../http/context.js";
import { targetGroups, type TargetFilter } from "../prometheus/sd-targets.js";
import type { Endpoint } from "./endpoint.js";
import { GET_METHODS, GET_REFUSED } from "./get-only.js";

export const sd: Endpoint = {
  path: "/-/dyshard/sd",
  methods: GET_METHODS,
  refused: GET_REFUSED,
  async serve(ctx, target, res) {
    const query = new URLSearchParams(target.includes("?") ? target.slice(target.indexOf("?") + 1) : "");
    const filter = parseFilter(query);
    if (typeof filter === "string") return text(res, 400, filter + "\n");
    const name = query.get("prometheus");
    if (name !== null && !(await allocated(ctx, name, filter, res))) return;
    json(res, 200, targetGroups(ctx.membership.active(), filter));
  },
};

/** The filter the query asks for, or why it is wrong. */
export function parseFilter(query: URLSearchParams): TargetFilter | string {
  const filter: TargetFilter = {};
  const healthy = query.get("healthy");
  if (healthy !== null) {
    if (!["1", "true", "0", "false"].includes(healthy)) return `healthy must be 1 or 0 (true or false), not ${JSON.stringify(healthy)}`;
    filter.healthyOnly = healthy === "1" || healthy === "true";
  }
  const shard = query.get("shard");
  const of = query.get("of");
  if (shard === null && of === null) return filter;
  if (shard === null || of === null) return "give both shard=I and of=K (server I of K, counted from 0)";
  if (!/^\d+$/.test(of) || Number(of) < 1) return `of must be the number of Prometheus servers (1 or more), not ${JSON.stringify(of)}`;
  if (!/^\d+$/.test(shard) || Number(shard) >= Number(of))
    return `shard must be this server's index, from 0 to ${Number(of) - 1} for of=${of}, not ${JSON.stringify(shard)}`;
  filter.shard = { index: Number(shard), of: Number(of) };
  return filter;
}

/** Narrows `filter` to the Pushgateways of server `name`; false when it answered instead (404, 503). */
async function allocated(ctx: RequestContext, name: string, filter: TargetFilter, res: ServerResponse): Promise<boolean> {
  const view = await ctx.control.scrape().catch((err: unknown) => {
    if (!(err instanceof UnavailableError)) throw err;
    text(res, 503, `${err.message}\n`);
    return null;
  });
  if (view === null) return false;
  const server = view?.servers.find((s) => s.name === name);
  if (!server) {
    const known = view?.servers.map((s) => s.name).join(", ");
    if (known) text(res, 404, `no Prometheus server named ${JSON.stringify(name)}; known: ${known}\n`);
    else notFound(res, "no Prometheus servers are configured: give dyshard serve --prometheus NAME=URL (repeatable)\n");
    return false;
  }
  filter.upstreams = new Set(server.targets);
  return true;
}
