// GET /-/dyshard/ring: the ring as this dyshard routes on it, slot by slot.
import { json } from "../http/answers.js";
import type { RequestContext } from "../http/context.js";
import type { Endpoint } from "./endpoint.js";
import { GET_METHODS, GET_REFUSED } from "./get-only.js";

export const ring: Endpoint = {
  path: "/-/dyshard/ring",
  methods: GET_METHODS,
  refused: GET_REFUSED,
  async serve(ctx, _target, res) {
    // Only with --prometheus is there more to show (with --workers, asked of the primary); still starting: the ring alone.
    const scrape = ctx.config.prometheus.length > 0 ? await ctx.control.scrape().catch(() => undefined) : undefined;
    json(res, 200, { ...ringView(ctx), ...(scrape ? { prometheus: scrape } : {}) });
  },
};

export function ringView({ config, membership }: Pick<RequestContext, "config" | "membership">) {
  const slots = membership.ring.slots.map((state, slot) => {
    const m = membership.members[slot];
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
    replicas: config.replicas,
    slot_count: slots.length,
    healthy_members: membership.healthyCount(),
    upstreams: membership.active().map((m) => m.url),
    slots,
  };
}
