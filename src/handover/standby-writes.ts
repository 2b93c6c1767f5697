// The executor's standby side (--replicas R ≥ 2). Once the owner was read back holding the
// primary, each step's standby copies are written from that primary (the group with the replica
// label, in its metrics too: copies.ts), then the standby slots are read back. A step's stale
// standby copies may go only when every standby slot of the group holds a standby copy at least as
// new as each of them; otherwise they stay and the step says why.
import type { ApiGroup } from "../pushgateway/exposition.js";
import { groupToText } from "../pushgateway/exposition.js";
import type { PushgatewayClient } from "../pushgateway/client/pushgateway-client.js";
import { standbyLabels } from "../pushgateway/replica.js";
import { mapLimit } from "../core/map-limit.js";
import { asCopy, atLeastAsNew } from "./copies.js";
import { groupId, isAcknowledged } from "./plan.js";
import { readBack, readOnly } from "./inventory.js";
import { acting, staleCopies, type StepResult, type Working } from "./step-results.js";

export interface StandbyDeps {
  client: PushgatewayClient;
  urlOf(slot: number): string | undefined;
  snapshot: ReadonlyMap<string, ApiGroup>;
  concurrency: number;
}

/** A standby slot read back: its groups, or why it could not be read. */
type ReadBack = Map<string, ApiGroup> | string;

export async function writeStandbys(results: StepResult[], confirm: Map<string, ApiGroup>, deps: StandbyDeps): Promise<Working[]> {
  const written = results.map(() => 0);
  const errors = results.map((): string[] => []);
  const writes = results.flatMap((r, i) => (acting(r) ? (r.step.replicate ?? []).map((slot) => ({ i, slot })) : []));
  await mapLimit(writes, deps.concurrency, async ({ i, slot }) => {
    const step = (results[i] as StepResult).step;
    const primary = confirm.get(groupId(step.group)); // checked by the executor before
    const url = deps.urlOf(slot);
    if (!url || !primary) return void (errors[i] as string[]).push(`standby slot ${slot} is gone`);
    try {
      await deps.client.push(url, standbyLabels(step.group), groupToText(asCopy(primary, true)), "PUT");
      written[i] = (written[i] ?? 0) + 1;
    } catch (err) {
      (errors[i] as string[]).push(`standby copy to ${url}: ${(err as Error).message}`);
    }
  });
  const missingOf = (back: Map<number, ReadBack>) =>
    results.map((r) => (acting(r) && r.step.standbys ? standbysMissing(r, back, deps.snapshot) : undefined));
  // Read again while a standby copy written is not seen (a 202: inventory.ts readBack).
  const missing = await readBack(
    async () => missingOf(await readStandbys(results, deps)),
    (m) => m.some((why, i) => why !== undefined && (written[i] as number) > 0),
  );
  return results.map((r, i): Working => {
    if (!acting(r) || !r.step.standbys) return r;
    const n = written[i] as number;
    const outcome = r.outcome === "deleted" && n > 0 ? "replicated" : r.outcome;
    const error = [...(r.error ? [r.error] : []), ...(errors[i] as string[])].join("; ");
    const keepStandby = missing[i];
    return { ...r, outcome, replicated: n, ...(error ? { error } : {}), ...(keepStandby ? { keepStandby } : {}) };
  });
}

/** Reads back every standby slot of the steps that have stale standby copies to delete. */
async function readStandbys(results: StepResult[], deps: StandbyDeps): Promise<Map<number, ReadBack>> {
  const reading = results.filter((r) => acting(r) && r.step.standbyFrom?.length);
  const slots = new Set(reading.flatMap((r) => r.step.standbys ?? []));
  const ids = new Set(reading.map((r) => groupId(standbyLabels(r.step.group))));
  const out = new Map<number, ReadBack>();
  await mapLimit([...slots], deps.concurrency, async (slot) => {
    const url = deps.urlOf(slot);
    if (!url) return void out.set(slot, `standby slot ${slot} is gone`);
    try {
      out.set(slot, await readOnly(deps.client, url, ids));
    } catch (err) {
      out.set(slot, `${url}: ${(err as Error).message}`);
    }
  });
  return out;
}

/** Why the stale standby copies of a step must stay (a standby slot lacks a copy as new), or undefined. */
function standbysMissing(r: StepResult, readBack: Map<number, ReadBack>, snapshot: StandbyDeps["snapshot"]): string | undefined {
  if (!r.step.standbyFrom?.length) return undefined;
  const id = groupId(standbyLabels(r.step.group));
  const stale = staleCopies({ ...r.step, from: [] }, snapshot);
  // Decided by the ledger: push times mean nothing, the standby copy written from the owner is the one.
  const acknowledged = isAcknowledged(r.step);
  for (const slot of r.step.standbys ?? []) {
    const back = readBack.get(slot);
    if (typeof back === "string" || back === undefined)
      return `standby slot ${slot} could not be read back (${back}); stale standby copies kept for the next run`;
    const held = back.get(id);
    if (!held || !(acknowledged || stale.every((c) => atLeastAsNew(held, c))))
      return `standby slot ${slot} does not hold a standby copy at least as new; stale standby copies kept for the next run`;
  }
  return undefined;
}
