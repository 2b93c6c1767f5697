// Judging a soak (pure): which client failures the faults explain, and whether every group ended
// where it belongs, once, with the value it should hold.
import type { Interval } from "./chaos.js";
import type { PushRecord } from "./pushers.js";

/**
 * Slack around an all-down window: dyshard sees an instance back only after its next checks pass in
 * Consul and its own (every 200 ms; a resumed instance first works through its backlog), and a
 * push sent just before the window may be answered inside it.
 */
export const GRACE_MS = 2000;

/** A failure's cause, as the figures name it. */
export function cause(r: PushRecord): string {
  if (r.status === 0) return `client error: ${r.text}`;
  if (r.status === 503 && r.text.startsWith("no healthy upstream")) return "503 no healthy upstream";
  if (r.status === 504) return "504 upstream did not answer";
  if (r.status === 502) return "502 upstream failed";
  return `${r.status} ${r.text}`;
}

const overlaps = (a: Interval, fromMs: number, toMs: number, grace: number) => a.fromMs - grace <= toMs && fromMs <= a.toMs + grace;

/**
 * A failure is explained when it is an answer (not a cut connection) that overlaps an all-down window (± GRACE_MS), or when it is a 504 from
 * an instance that was hung while the push waited (the owner cannot be known to be down before
 * the checks say so, and a push it may still apply is not sent elsewhere).
 */
export function explained(r: PushRecord, allDown: Interval[], hung: Interval[][], upstreams: string[]): boolean {
  if (r.status === 0) return false; // dyshard itself never goes down: a cut connection is never explained
  if (allDown.some((w) => overlaps(w, r.startMs, r.endMs, GRACE_MS))) return true;
  if (r.status !== 504) return false;
  const i = upstreams.findIndex((u) => r.text.includes(`upstream ${u} `));
  return i >= 0 && (hung[i] ?? []).some((w) => overlaps(w, r.startMs, r.endMs, GRACE_MS));
}

/** A push that failed but may have been applied (sent, no answer): a value that may rightly win. */
function mayHaveApplied(r: PushRecord): boolean {
  return r.status === 504 || r.status === 502 || r.status === 0;
}

export interface Copy {
  slot: number;
  standby: boolean;
  value: number;
}

export interface Placement {
  lost: number;
  /** Lost, but after a fault that lost data (without standby copies, expected). */
  lostToFaults: number;
  wrongValue: number;
  notOnOwner: number;
  heldTwice: number;
  noStandby: number;
  extra: number;
}

/**
 * Each group against its pushes: the primary on its owner holding the last acknowledged value (or a
 * later one answered 502/504 that the instance may still have applied), its standby copy beside it
 * on the next owner (replicas 2), nothing anywhere else.
 */
export function judgePlacement(
  records: PushRecord[],
  copies: Map<number, Copy[]>,
  owners: (group: number) => number[],
  losses: number[],
): Placement {
  const t: Placement = { lost: 0, lostToFaults: 0, wrongValue: 0, notOnOwner: 0, heldTwice: 0, noStandby: 0, extra: 0 };
  for (const [group, pushes] of byGroup(records)) {
    const acked = pushes.filter((r) => r.status === 200).at(-1);
    const allowed = new Set(pushes.filter((r) => (acked ? r.value > acked.value : true) && mayHaveApplied(r)).map((r) => r.value));
    if (acked) allowed.add(acked.value);
    const [owner, standby] = owners(group);
    const list = copies.get(group) ?? [];
    const primaries = list.filter((c) => !c.standby);
    const primary = primaries.find((c) => c.slot === owner);
    if (primaries.length > 1) t.heldTwice++;
    if (!acked && list.length === 0) continue; // never acknowledged, never stored: nothing to keep
    if (list.length === 0 || (primary && acked && primary.value < acked.value)) {
      if (acked && losses.some((ms) => ms >= acked.startMs)) t.lostToFaults++;
      else t.lost++;
    } else if (!primary) t.notOnOwner++;
    else if (!allowed.has(primary.value)) t.wrongValue++;
    if (standby !== undefined && primary && !list.some((c) => c.standby && c.slot === standby && c.value === primary.value)) t.noStandby++;
    t.extra += list.filter((c) => !((!c.standby && c.slot === owner) || (c.standby && c.slot === standby))).length;
  }
  return t;
}

function byGroup(records: PushRecord[]): Map<number, PushRecord[]> {
  const out = new Map<number, PushRecord[]>();
  for (const r of records) {
    const list = out.get(r.group);
    if (list) list.push(r);
    else out.set(r.group, [r]);
  }
  for (const list of out.values()) list.sort((a, b) => a.value - b.value);
  return out;
}
