// A run's step results counted into its report. Pure: the Handover adds the times and metrics.
import type { StepResult } from "./executor.js";
import type { HandoverStep } from "./plan.js";
import type { RunReport } from "./run-report.js";

type Tally = Pick<RunReport, "copied" | "promoted" | "merged" | "replicated" | "deleted" | "expired" | "failed" | "left" | "steps">;

/** Counts outcomes, and lists each step with the upstreams' URLs (the outcome only when it acted). */
export function tally(results: StepResult[], dryRun: boolean, urlOf: (slot: number) => string | undefined): Tally {
  const t: Tally = { copied: 0, promoted: 0, merged: 0, replicated: 0, deleted: 0, expired: 0, failed: 0, left: 0, steps: [] };
  for (const r of results) {
    if (r.outcome === "copied") t.copied++;
    if (r.outcome === "promoted") t.promoted++;
    if (r.outcome === "merged") t.merged++;
    if (r.outcome === "failed") t.failed++;
    if (r.outcome === "left") t.left++;
    if (r.outcome === "expired") t.expired++;
    else t.deleted += r.deleted;
    t.replicated += r.replicated ?? 0;
    t.steps.push({ ...describe(r.step, urlOf), ...(dryRun ? {} : { outcome: r.outcome }), ...(r.error ? { error: r.error } : {}) });
  }
  return t;
}

function describe(step: HandoverStep, urlOf: (slot: number) => string | undefined) {
  const name = (slot: number) => urlOf(slot) ?? `slot ${slot}`;
  return {
    action: step.action,
    group: step.group,
    owner: step.owner === null ? null : name(step.owner),
    from: step.from.map(name),
    ...(step.standbyFrom?.length ? { standby_from: step.standbyFrom.map(name) } : {}),
    ...(step.replicate?.length ? { replicate: step.replicate.map(name) } : {}),
    reason: step.reason,
  };
}
