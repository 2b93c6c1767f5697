// Carries out a handover plan, owner by owner, in chunks. For each chunk it holds this dyshard's
// pushes of those groups (GroupGate), reads the owner afresh (a push may have landed there since
// the inventory), copies, promotes or merges what the owner still lacks, reads the owner again to
// confirm, writes the standby copies from the confirmed primary and reads them back
// (standby-writes.ts, --replicas), and only then deletes the stale copies. A copy is never
// deleted before the copies replacing it were seen at least as new; every step re-checks, so
// running it twice, or from two dyshards, is harmless.
import type { Logger } from "pino";
import type { ApiGroup } from "../pushgateway/exposition.js";
import { groupToText, pushTimeSeconds } from "../pushgateway/exposition.js";
import type { PushgatewayClient } from "../pushgateway/client/pushgateway-client.js";
import { isStandby, standbyLabels } from "../pushgateway/replica.js";
import type { MoveGate } from "./gate.js";
import { mapLimit } from "../core/map-limit.js";
import { asCopy, atLeastAsNew, families } from "./copies.js";
import { groupId, isAcknowledged, type HandoverPlan, type HandoverStep } from "./plan.js";
import { writeStandbys } from "./standby-writes.js";
import { readBack, readOnly } from "./inventory.js";
import { acting, staleCopies, type StepResult, type Working } from "./step-results.js";

export type { StepOutcome, StepResult } from "./step-results.js";

export interface ExecuteDeps {
  client: PushgatewayClient;
  /** The URL of the member at a slot now, undefined if it is gone. */
  urlOf(slot: number): string | undefined;
  /** The owner of a group on the ring now: a step whose owner changed is skipped (the next run redoes it). */
  ownerOf(labels: Record<string, string>): number | undefined;
  /** The group's owners now (Ring.owners): a step whose standby slots changed is skipped too. */
  ownersOf?(labels: Record<string, string>): number[];
  /** The inventory the plan was made from: `${slot}|${groupId}` → group (a standby copy under its own labels). */
  snapshot: ReadonlyMap<string, ApiGroup>;
  gate?: { gate: MoveGate; keyOf(labels: Record<string, string>): string };
  /** The ledger's verdict now (see plan.ts): a step it decided is skipped if the verdict changed. */
  authority?(labels: Record<string, string>): number | undefined;
  concurrency: number;
  chunk?: number;
  log: Logger;
}

export async function executePlan(plan: HandoverPlan, deps: ExecuteDeps): Promise<StepResult[]> {
  const results: StepResult[] = plan.steps.filter((s) => s.action === "leave").map((step) => ({ step, outcome: "left", deleted: 0 }));
  const byOwner = new Map<number, HandoverStep[]>();
  for (const s of plan.steps) if (s.action !== "leave") byOwner.set(s.owner, [...(byOwner.get(s.owner) ?? []), s]);
  for (const [owner, steps] of byOwner) {
    const size = deps.chunk ?? chunkSize(steps.length);
    for (let i = 0; i < steps.length; i += size) results.push(...(await executeChunk(owner, steps.slice(i, i + size), deps)));
  }
  return results;
}

/**
 * 100 steps a chunk, or more when an owner has many: every chunk reads the owner's whole
 * inventory twice, so after a recovery moving tens of thousands of groups back, a fixed size would
 * read it hundreds of times. At most 8 chunks an owner, each holding its groups' pushes longer.
 */
export function chunkSize(steps: number): number {
  return Math.max(100, Math.ceil(steps / 8));
}

async function executeChunk(owner: number, steps: HandoverStep[], deps: ExecuteDeps): Promise<StepResult[]> {
  const ownerUrl = deps.urlOf(owner);
  if (!ownerUrl) return steps.map((step) => ({ step, outcome: "skipped", deleted: 0, error: `owner slot ${owner} is gone` }));
  const reopen = deps.gate ? await deps.gate.gate.close(steps.map((s) => deps.gate!.keyOf(s.group))) : () => {};
  try {
    const ids = new Set(steps.map((s) => groupId(s.group)));
    const fresh = await readOnly(deps.client, ownerUrl, ids);
    const brought = await mapLimit(steps, deps.concurrency, (step) => bringToOwner(step, ownerUrl, fresh, deps));
    const { confirm, checked } = await confirmOwner(brought, ownerUrl, ids, fresh, deps);
    const replicated = await writeStandbys(checked, confirm, deps);
    return await mapLimit(replicated, deps.concurrency, (r) => (acting(r) ? removeStale(r, deps) : Promise.resolve(strip(r))));
  } catch (err) {
    return steps.map((step) => ({ step, outcome: "failed", deleted: 0, error: (err as Error).message }));
  } finally {
    reopen();
  }
}

/** Copies, promotes or merges into the owner what it lacks, judged on its fresh state. */
async function bringToOwner(step: HandoverStep, ownerUrl: string, fresh: Map<string, ApiGroup>, deps: ExecuteDeps): Promise<StepResult> {
  const moved = ringMoved(step, deps);
  if (moved) return { step, outcome: "skipped", deleted: 0, error: moved };
  if (step.action === "expire") return stillExpired(step, fresh);
  if (isAcknowledged(step)) return bringAcknowledged(step, ownerUrl, deps);
  const source = sourceOf(step, deps.snapshot);
  const held = fresh.get(groupId(step.group));
  if (!source)
    return held ? { step, outcome: "deleted", deleted: 0 } : { step, outcome: "failed", deleted: 0, error: "no copy in the inventory" };
  // A standby copy becomes the primary without the replica label, in its metrics too (copies.ts).
  const primary = isStandby(source.labels) ? asCopy(source, false) : source;
  try {
    if (!held || !atLeastAsNew(held, source)) {
      await deps.client.push(ownerUrl, step.group, groupToText(primary), "PUT");
      return { step, outcome: isStandby(source.labels) ? "promoted" : "copied", deleted: 0 };
    }
    const missing = families(source).filter((f) => !(f in held));
    if (missing.length > 0) {
      await deps.client.push(ownerUrl, step.group, groupToText(only(primary, missing)), "POST");
      return { step, outcome: "merged", deleted: 0 };
    }
    return { step, outcome: "deleted", deleted: 0 };
  } catch (err) {
    return { step, outcome: "failed", deleted: 0, error: (err as Error).message };
  }
}

/** Why a step no longer fits the ring, if it does not: its owner or its standby slots changed. */
function ringMoved(step: HandoverStep, deps: ExecuteDeps): string | undefined {
  if (deps.ownerOf(step.group) !== step.owner) return "the owner changed since the plan";
  if (step.action === "leave" || !step.standbys || !deps.ownersOf) return undefined;
  const now = deps.ownersOf(step.group).slice(1);
  if (now.length !== step.standbys.length || now.some((s, i) => s !== step.standbys![i])) return "the standby slots changed since the plan";
  return undefined;
}

/** The copy the plan chose (a copy or a merge), or else the newest stale one (a delete re-checks the owner). */
function sourceOf(step: HandoverStep, snapshot: ReadonlyMap<string, ApiGroup>): ApiGroup | undefined {
  if (step.action === "copy" || step.action === "merge") {
    const labels = step.action === "copy" && step.promote ? standbyLabels(step.group) : step.group;
    return snapshot.get(`${step.source}|${groupId(labels)}`);
  }
  return staleCopies(step, snapshot).sort((a, b) => (pushTimeSeconds(b) ?? -Infinity) - (pushTimeSeconds(a) ?? -Infinity))[0];
}

/** An expire step goes on unless the owner, read with the group's pushes held, shows a push since the cut-off. */
function stillExpired(step: Extract<HandoverStep, { action: "expire" }>, fresh: Map<string, ApiGroup>): StepResult {
  const held = fresh.get(groupId(step.group));
  const pushed = held && pushTimeSeconds(held);
  if (pushed !== undefined && pushed > step.cutoff)
    return { step, outcome: "skipped", deleted: 0, error: "pushed again since the plan: the group stays" };
  return { step, outcome: "expired", deleted: 0 };
}

/** The ledger decided: the copy at the slot of the last acknowledged push goes to the owner as it is. */
async function bringAcknowledged(
  step: Extract<HandoverStep, { action: "copy" | "delete" | "replicate" }>,
  ownerUrl: string,
  deps: ExecuteDeps,
): Promise<StepResult> {
  const source = step.action === "copy" ? step.source : step.owner;
  if (deps.authority?.(step.group) !== source)
    return { step, outcome: "skipped", deleted: 0, error: "the last acknowledged push moved since the plan" };
  if (step.action !== "copy") return { step, outcome: "deleted", deleted: 0 };
  const copy = deps.snapshot.get(`${source}|${groupId(step.group)}`);
  if (!copy) return { step, outcome: "failed", deleted: 0, error: "no acknowledged copy in the inventory" };
  try {
    await deps.client.push(ownerUrl, step.group, groupToText(copy), "PUT");
    return { step, outcome: "copied", deleted: 0 };
  } catch (err) {
    return { step, outcome: "failed", deleted: 0, error: (err as Error).message };
  }
}

const wrote = (r: StepResult) => r.outcome === "copied" || r.outcome === "promoted" || r.outcome === "merged";

/** The owner read back after the chunk's writes (again while a write is not seen: readBack), each step checked against it. */
async function confirmOwner(
  brought: StepResult[],
  ownerUrl: string,
  ids: ReadonlySet<string>,
  fresh: Map<string, ApiGroup>,
  deps: ExecuteDeps,
): Promise<{ confirm: Map<string, ApiGroup>; checked: StepResult[] }> {
  const check = (confirm: Map<string, ApiGroup>) => ({
    confirm,
    checked: brought.map((r) => (acting(r) && r.step.action !== "expire" ? checkOwner(r, ownerUrl, confirm, deps) : r)),
  });
  if (!brought.some(wrote)) return check(fresh);
  return readBack(
    async () => check(await readOnly(deps.client, ownerUrl, ids)),
    ({ checked }) => checked.some((r, i) => wrote(brought[i] as StepResult) && !acting(r)),
  );
}

/** The owner, read back, must hold the group at least as new as every copy about to be deleted. */
function checkOwner(r: StepResult, ownerUrl: string, confirm: Map<string, ApiGroup>, deps: ExecuteDeps): StepResult {
  const held = confirm.get(groupId(r.step.group));
  // Decided by the ledger: the stale copies may carry newer push times, which mean nothing here.
  if (held && (isAcknowledged(r.step) || staleCopies(r.step, deps.snapshot).every((c) => atLeastAsNew(held, c)))) return r;
  const what = r.outcome === "deleted" ? "check" : r.outcome === "merged" ? "merge" : "copy";
  return { ...r, outcome: "failed", error: `${ownerUrl} does not hold the group after the ${what}; stale copies kept` };
}

/** Deletes the stale primaries, and the stale standby copies unless their replacements were not seen. */
async function removeStale(r: Working, deps: ExecuteDeps): Promise<StepResult> {
  const standby = standbyLabels(r.step.group);
  const targets: [number, Record<string, string>][] = [
    ...r.step.from.map((slot): [number, Record<string, string>] => [slot, r.step.group]),
    ...(r.keepStandby ? [] : (r.step.standbyFrom ?? []).map((slot): [number, Record<string, string>] => [slot, standby])),
  ];
  let deleted = 0;
  const errors: string[] = r.error ? [r.error] : [];
  if (r.keepStandby) errors.push(r.keepStandby);
  for (const [slot, labels] of targets) {
    const url = deps.urlOf(slot);
    if (!url) continue;
    try {
      await deps.client.delete(url, labels);
      deleted++;
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  const done = strip({ ...r, deleted });
  return errors.length ? { ...done, outcome: "failed", error: errors.join("; ") } : done;
}

function strip(r: Working): StepResult {
  const { keepStandby: _keep, ...result } = r;
  return result;
}

function only(g: ApiGroup, names: string[]): ApiGroup {
  const out: ApiGroup = { labels: g.labels };
  for (const n of names) out[n] = g[n];
  return out;
}
