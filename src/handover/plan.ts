// The handover plan: what to do with every group found on an instance that does not own it.
// Pure: it sees copies (where a group is, when it was pushed, which families it has) and the ring,
// and decides; the executor does the I/O and re-checks before it deletes anything.
//
// - owner holds the group, pushed at the same time or later: delete the stale copies (after
//   merging families the owner lacks: a POST-style job may have pushed only some families there);
// - owner lacks it or holds an older one: copy the newest stale copy to the owner, confirm, then
//   delete every stale copy;
// - owner unhealthy or unknown (no healthy member, or its inventory could not be read): leave it.
//
// Push times are trusted unless dyshard knows better: when the ledger (push-ledger.ts) names the
// slot of the group's last acknowledged push, that copy wins, however old its push_time, over
// copies an instance may have applied late from pushes dyshard never acknowledged.

export interface GroupCopy {
  slot: number;
  /** The group's labels as the Pushgateway stores them, job included, empty values kept. */
  labels: Record<string, string>;
  /** push_time_seconds; undefined (never pushed successfully) counts as oldest. */
  pushTime: number | undefined;
  /** Metric family names, push_time_seconds and push_failure_time_seconds excluded. */
  families: string[];
}

export interface PlanInput {
  copies: GroupCopy[];
  /** The slot that owns a group on the current ring; undefined when none is healthy. */
  ownerOf(labels: Record<string, string>): number | undefined;
  /** Slots whose inventory was read: only there is "the owner lacks it" known to be true. */
  inventoried: ReadonlySet<number>;
  /** The slot holding the group's last acknowledged push, when push times cannot be trusted. */
  authority?(labels: Record<string, string>): number | undefined;
}

export type HandoverStep =
  /** `acknowledged`: decided by the ledger, not by push times (the executor must not compare them). */
  | { action: "delete"; group: Record<string, string>; owner: number; from: number[]; reason: string; acknowledged?: true }
  | { action: "merge"; group: Record<string, string>; owner: number; source: number; families: string[]; from: number[]; reason: string }
  | { action: "copy"; group: Record<string, string>; owner: number; source: number; from: number[]; reason: string; acknowledged?: true }
  | { action: "leave"; group: Record<string, string>; owner: number | null; from: number[]; reason: string };

export interface HandoverPlan {
  /** Distinct groups seen over all inventoried instances. */
  groups: number;
  /** Groups with at least one copy on an instance that does not own them. */
  misplaced: number;
  steps: HandoverStep[];
}

export function groupId(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function planHandover({ copies, ownerOf, inventoried, authority }: PlanInput): HandoverPlan {
  const byGroup = new Map<string, GroupCopy[]>();
  for (const c of copies) {
    const id = groupId(c.labels);
    const list = byGroup.get(id);
    if (list) list.push(c);
    else byGroup.set(id, [c]);
  }
  const steps: HandoverStep[] = [];
  for (const list of byGroup.values()) {
    const group = (list[0] as GroupCopy).labels;
    const owner = ownerOf(group);
    const stale = list.filter((c) => c.slot !== owner).sort((a, b) => time(b) - time(a) || a.slot - b.slot);
    if (stale.length === 0) continue;
    const from = stale.map((c) => c.slot);
    if (owner === undefined || !inventoried.has(owner)) {
      steps.push({
        action: "leave",
        group,
        owner: owner ?? null,
        from,
        reason: owner === undefined ? "no healthy owner" : `owner slot ${owner} could not be inventoried`,
      });
      continue;
    }
    const held = list.find((c) => c.slot === owner);
    const acked = authority?.(group);
    if (acked !== undefined && list.some((c) => c.slot === acked)) {
      steps.push(acknowledgedStep(group, owner, acked, from));
      continue;
    }
    const newest = stale[0] as GroupCopy;
    if (held && time(held) >= time(newest)) {
      const missing = newest.families.filter((f) => !held.families.includes(f));
      if (missing.length === 0) steps.push({ action: "delete", group, owner, from, reason: "owner holds the same or a newer push" });
      else
        steps.push({
          action: "merge",
          group,
          owner,
          source: newest.slot,
          families: missing.sort(),
          from,
          reason: `owner holds a newer push but lacks ${missing.join(", ")}`,
        });
    } else {
      steps.push({
        action: "copy",
        group,
        owner,
        source: newest.slot,
        from,
        reason: held ? "owner holds an older push" : "owner lacks the group",
      });
    }
  }
  return { groups: byGroup.size, misplaced: steps.length, steps };
}

function acknowledgedStep(group: Record<string, string>, owner: number, acked: number, from: number[]): HandoverStep {
  if (acked === owner)
    return {
      action: "delete",
      group,
      owner,
      from,
      reason: "owner holds the last acknowledged push; the other copies were not acknowledged",
      acknowledged: true,
    };
  return {
    action: "copy",
    group,
    owner,
    source: acked,
    from,
    reason: `slot ${acked} holds the last acknowledged push; the other copies were not acknowledged`,
    acknowledged: true,
  };
}

function time(c: GroupCopy): number {
  return c.pushTime ?? -Infinity;
}
