// The handover's metrics (where the handover runs: in the primary with --workers, in the CLI's
// own throwaway registry for `dyshard rebalance`).
import { Counter, Gauge, type Registry } from "prom-client";

export type HandoverMetrics = ReturnType<typeof handoverMetrics>;

export function handoverMetrics(registry: Registry) {
  const registers = [registry];
  return {
    copied: new Counter({
      name: "dyshard_handover_groups_copied_total",
      help: "Groups copied (or merged) to their owner from a stale primary by the handover (promotions counted apart).",
      registers,
    }),
    promoted: new Counter({
      name: "dyshard_handover_groups_promoted_total",
      help: "Groups whose owner had lost them, given back their primary from a standby copy by the handover (--replicas).",
      registers,
    }),
    replicated: new Counter({
      name: "dyshard_handover_groups_replicated_total",
      help: "Standby copies written by the handover where a standby slot lacked one or held an older one (--replicas).",
      registers,
    }),
    deleted: new Counter({
      name: "dyshard_handover_groups_deleted_total",
      help: "Stale group copies deleted, by what deleted them (sweep: a handover run; push: right after a push to the new owner).",
      labelNames: ["via"] as const,
      registers,
    }),
    failed: new Counter({
      name: "dyshard_handover_groups_failed_total",
      help: "Handover steps that failed (the stale copy is kept; the next run retries).",
      registers,
    }),
    misplaced: new Gauge({
      name: "dyshard_handover_misplaced_groups",
      help: "Groups found on an instance that does not own them (or, with --replicas, lacking a standby copy), in the last run.",
      registers,
    }),
    lastRun: new Gauge({
      name: "dyshard_handover_last_run_timestamp_seconds",
      help: "Unix time the last handover run ended.",
      registers,
    }),
    runs: new Counter({
      name: "dyshard_handover_runs_total",
      help: "Handover runs carried out (dry runs and runs left to the holder of the Consul lock not counted).",
      registers,
    }),
    expired: new Counter({
      name: "dyshard_groups_expired_total",
      help: "Groups deleted (every copy) because nobody pushed them for their job's TTL (--group-ttl, group_ttl_by_job), by job.",
      labelNames: ["job"] as const,
      registers,
    }),
    lastDuration: new Gauge({
      name: "dyshard_handover_last_run_duration_seconds",
      help: "Duration of the last handover run.",
      registers,
    }),
  };
}
