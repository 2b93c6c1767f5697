// The ring as /-/dyshard/ring and the status page show it, slot by slot (plain data: with
// --workers the primary's is relayed over IPC).
import type { Config } from "../config/schema.js";
import type { Membership } from "./membership.js";

export function ringView(config: Pick<Config, "mode" | "shardBy" | "replicas">, membership: Membership) {
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

export type RingView = ReturnType<typeof ringView>;
