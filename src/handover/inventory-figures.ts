// What a run's inventory shows besides the plan: each instance's primaries and standby copies, and
// how many groups have primaries on more than one instance (Prometheus scrapes them twice). Pure.
import { isStandby, primaryLabels } from "../pushgateway/replica.js";
import { groupId, type GroupCopy } from "./plan.js";
import type { InstanceFigures } from "./run-report.js";

export function inventoryFigures(
  copies: GroupCopy[],
  inventoried: Iterable<number>,
  urlOf: (slot: number) => string | undefined,
): { instances: InstanceFigures[]; duplicates: number } {
  const bySlot = new Map<number, InstanceFigures>();
  for (const slot of inventoried) bySlot.set(slot, { upstream: urlOf(slot) ?? `slot ${slot}`, primaries: 0, standbys: 0 });
  const primariesOf = new Map<string, number>();
  for (const c of copies) {
    const f = bySlot.get(c.slot);
    const standby = isStandby(c.labels);
    if (f) f[standby ? "standbys" : "primaries"]++;
    if (!standby) {
      const id = groupId(primaryLabels(c.labels));
      primariesOf.set(id, (primariesOf.get(id) ?? 0) + 1);
    }
  }
  let duplicates = 0;
  for (const n of primariesOf.values()) if (n > 1) duplicates++;
  return { instances: [...bySlot.entries()].sort(([a], [b]) => a - b).map(([, f]) => f), duplicates };
}
