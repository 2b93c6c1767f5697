// A handover step's result as it goes through a chunk of the executor (executor.ts,
// standby-writes.ts), and the inventory lookups both use. Pure.
import type { ApiGroup } from "../pushgateway/exposition.js";
import { standbyLabels } from "../pushgateway/replica.js";
import { groupId, type HandoverStep } from "./plan.js";

/**
 * `promoted`: a standby copy became the primary; `replicated`: the owner held it, standby copies
 * were written; `expired`: every copy deleted (group expiry).
 */
export type StepOutcome = "copied" | "promoted" | "merged" | "replicated" | "deleted" | "expired" | "left" | "skipped" | "failed";

export interface StepResult {
  step: HandoverStep;
  outcome: StepOutcome;
  /** Stale copies removed. */
  deleted: number;
  /** Standby copies written. */
  replicated?: number;
  error?: string;
}

/** A result on its way through a chunk: why its stale standby copies must stay, if they must. */
export type Working = StepResult & { keepStandby?: string };

/** Whether a result is still going: not failed, not skipped. */
export function acting(r: StepResult): boolean {
  return r.outcome !== "failed" && r.outcome !== "skipped";
}

/** The stale copies of a step as the inventory showed them: primaries (`from`), then standby copies (`standbyFrom`). */
export function staleCopies(step: HandoverStep, snapshot: ReadonlyMap<string, ApiGroup>): ApiGroup[] {
  const primaryId = groupId(step.group);
  const standbyId = groupId(standbyLabels(step.group));
  return [
    ...step.from.map((slot) => snapshot.get(`${slot}|${primaryId}`)),
    ...(step.standbyFrom ?? []).map((slot) => snapshot.get(`${slot}|${standbyId}`)),
  ].filter((g): g is ApiGroup => g !== undefined);
}

/** Every copy of the inventory a step may read whole (its source, its stale copies), as `${slot}|${groupId}`. */
export function snapshotKeys(step: HandoverStep): string[] {
  if (step.action === "leave" || step.action === "expire") return [];
  const primaryId = groupId(step.group);
  const standbyId = groupId(standbyLabels(step.group));
  const keys = [...step.from.map((slot) => `${slot}|${primaryId}`), ...(step.standbyFrom ?? []).map((slot) => `${slot}|${standbyId}`)];
  if (step.action === "copy" || step.action === "merge")
    keys.push(`${step.source}|${step.action === "copy" && step.promote ? standbyId : primaryId}`);
  return keys;
}
