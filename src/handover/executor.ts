// Carries out a handover plan, owner by owner, in chunks. For each chunk it holds this dyshard's
// pushes of those groups (GroupGate), reads the owner afresh (a push may have landed there since
// the inventory), copies or merges what the owner still lacks, reads the owner again to confirm,
// and only then deletes the stale copies. A copy is never deleted before its owner was seen to
// hold the group at least as new; every step re-checks, so running it twice, or from two
// dyshards, is harmless.
import type { Logger } from "pino";
import type { ApiGroup } from "../pushgateway/exposition.js";
import { groupToText, pushTimeSeconds } from "../pushgateway/exposition.js";
import type { PushgatewayClient } from "../pushgateway/client/pushgateway-client.js";
import type { MoveGate } from "./gate.js";
import { mapLimit } from "../core/map-limit.js";
import { groupId, type HandoverPlan, type HandoverStep } from "./plan.js";

export interface ExecuteDeps {
  client: PushgatewayClient;
  /** The URL of the member at a slot now, undefined if it is gone. */
  urlOf(slot: number): string | undefined;
  /** The owner of a group on the ring now: a step whose owner changed is skipped (the next run redoes it). */
  ownerOf(labels: Record<string, string>): number | undefined;
  /** The inventory the plan was made from: `${slot}|${groupId}` → group. */
  snapshot: ReadonlyMap<string, ApiGroup>;
  gate?: { gate: MoveGate; keyOf(labels: Record<string, string>): string };
  /** The ledger's verdict now (see plan.ts): a step it decided is skipped if the verdict changed. */
  authority?(labels: Record<string, string>): number | undefined;
  concurrency: number;
  chunk?: number;
  log: Logger;
}

export type StepOutcome = "copied" | "merged" | "deleted" | "left" | "skipped" | "failed";

export interface StepResult {
  step: HandoverStep;
  outcome: StepOutcome;
  /** Stale copies removed. */
  deleted: number;
  error?: string;
}

export async function executePlan(plan: HandoverPlan, deps: ExecuteDeps): Promise<StepResult[]> {
  const results: StepResult[] = plan.steps.filter((s) => s.action === "leave").map((step) => ({ step, outcome: "left", deleted: 0 }));
  const byOwner = new Map<number, HandoverStep[]>();
  for (const s of plan.steps) if (s.action !== "leave") byOwner.set(s.owner, [...(byOwner.get(s.owner) ?? []), s]);
  const size = deps.chunk ?? 100;
  for (const [owner, steps] of byOwner) {
    for (let i = 0; i < steps.length; i += size) results.push(...(await executeChunk(owner, steps.slice(i, i + size), deps)));
  }
  return results;
}

async function executeChunk(owner: number, steps: HandoverStep[], deps: ExecuteDeps): Promise<StepResult[]> {
  const ownerUrl = deps.urlOf(owner);
  if (!ownerUrl) return steps.map((step) => ({ step, outcome: "skipped", deleted: 0, error: `owner slot ${owner} is gone` }));
  const reopen = deps.gate ? await deps.gate.gate.close(steps.map((s) => deps.gate!.keyOf(s.group))) : () => {};
  try {
    const fresh = index(await deps.client.groups(ownerUrl));
    const results = await mapLimit(steps, deps.concurrency, (step) => bringToOwner(step, ownerUrl, fresh, deps));
    const wrote = results.some((r) => r.outcome === "copied" || r.outcome === "merged");
    const confirm = wrote ? index(await deps.client.groups(ownerUrl)) : fresh;
    return await mapLimit(results, deps.concurrency, (r) =>
      r.outcome === "failed" || r.outcome === "skipped" ? Promise.resolve(r) : removeStale(r, ownerUrl, confirm, deps),
    );
  } catch (err) {
    return steps.map((step) => ({ step, outcome: "failed", deleted: 0, error: (err as Error).message }));
  } finally {
    reopen();
  }
}

/** Copies or merges into the owner what it lacks, judged on its fresh state. */
async function bringToOwner(step: HandoverStep, ownerUrl: string, fresh: Map<string, ApiGroup>, deps: ExecuteDeps): Promise<StepResult> {
  if (deps.ownerOf(step.group) !== step.owner) return { step, outcome: "skipped", deleted: 0, error: "the owner changed since the plan" };
  if ((step.action === "copy" || step.action === "delete") && step.acknowledged) return bringAcknowledged(step, ownerUrl, deps);
  const id = groupId(step.group);
  const stale = step.from.map((slot) => deps.snapshot.get(`${slot}|${id}`)).filter((g): g is ApiGroup => g !== undefined);
  const newest = stale.sort((a, b) => (pushTimeSeconds(b) ?? -Infinity) - (pushTimeSeconds(a) ?? -Infinity))[0];
  if (!newest) return { step, outcome: "failed", deleted: 0, error: "no stale copy in the inventory" };
  const held = fresh.get(id);
  try {
    if (!held || (pushTimeSeconds(held) ?? -Infinity) < (pushTimeSeconds(newest) ?? -Infinity)) {
      await deps.client.push(ownerUrl, step.group, groupToText(newest), "PUT");
      return { step, outcome: "copied", deleted: 0 };
    }
    const missing = families(newest).filter((f) => !(f in held));
    if (missing.length > 0) {
      await deps.client.push(ownerUrl, step.group, groupToText(only(newest, missing)), "POST");
      return { step, outcome: "merged", deleted: 0 };
    }
    return { step, outcome: "deleted", deleted: 0 };
  } catch (err) {
    return { step, outcome: "failed", deleted: 0, error: (err as Error).message };
  }
}

/** The ledger decided: the copy at the slot of the last acknowledged push goes to the owner as it is. */
async function bringAcknowledged(
  step: Extract<HandoverStep, { action: "copy" | "delete" }>,
  ownerUrl: string,
  deps: ExecuteDeps,
): Promise<StepResult> {
  const source = step.action === "copy" ? step.source : step.owner;
  if (deps.authority?.(step.group) !== source)
    return { step, outcome: "skipped", deleted: 0, error: "the last acknowledged push moved since the plan" };
  if (step.action === "delete") return { step, outcome: "deleted", deleted: 0 };
  const copy = deps.snapshot.get(`${source}|${groupId(step.group)}`);
  if (!copy) return { step, outcome: "failed", deleted: 0, error: "no acknowledged copy in the inventory" };
  try {
    await deps.client.push(ownerUrl, step.group, groupToText(copy), "PUT");
    return { step, outcome: "copied", deleted: 0 };
  } catch (err) {
    return { step, outcome: "failed", deleted: 0, error: (err as Error).message };
  }
}

/** Deletes the stale copies once the owner is seen holding the group at least as new as them. */
async function removeStale(r: StepResult, ownerUrl: string, confirm: Map<string, ApiGroup>, deps: ExecuteDeps): Promise<StepResult> {
  const id = groupId(r.step.group);
  const held = confirm.get(id);
  // Decided by the ledger: the stale copies may carry newer push times, which mean nothing here.
  const acknowledged = (r.step.action === "copy" || r.step.action === "delete") && r.step.acknowledged === true;
  const newestStale = acknowledged
    ? -Infinity
    : Math.max(...r.step.from.map((slot) => pushTimeSeconds(deps.snapshot.get(`${slot}|${id}`) ?? { labels: {} }) ?? -Infinity));
  if (!held || (pushTimeSeconds(held) ?? -Infinity) < newestStale) {
    return {
      ...r,
      outcome: "failed",
      error: `${ownerUrl} does not hold the group after the ${r.outcome === "deleted" ? "check" : r.outcome === "merged" ? "merge" : "copy"}; stale copies kept`,
    };
  }
  let deleted = 0;
  const errors: string[] = [];
  for (const slot of r.step.from) {
    const url = deps.urlOf(slot);
    if (!url) continue;
    try {
      await deps.client.delete(url, r.step.group);
      deleted++;
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  return errors.length ? { ...r, deleted, outcome: "failed", error: errors.join("; ") } : { ...r, deleted };
}

function index(groups: ApiGroup[]): Map<string, ApiGroup> {
  return new Map(groups.map((g) => [groupId(g.labels), g]));
}

export function families(g: ApiGroup): string[] {
  return Object.keys(g).filter(
    (k) => k !== "labels" && k !== "last_push_successful" && k !== "push_time_seconds" && k !== "push_failure_time_seconds",
  );
}

function only(g: ApiGroup, names: string[]): ApiGroup {
  const out: ApiGroup = { labels: g.labels };
  for (const n of names) out[n] = g[n];
  return out;
}
