// The membership's state machine, apart from its events and its ring: how discovery's answer and
// dyshard's own checks turn into each member's health. No I/O, no clock (`now` is given), no
// events; members are updated in place, so a member keeps its identity while its URL and slot do.
import type { Member, MemberSpec } from "./member.js";

/** The result of applying discovery's answer: the new members by slot, and what to settle. */
export interface Applied {
  members: (Member | undefined)[];
  /** Kept members whose discovery verdict changed: their health must be settled. */
  touched: Member[];
  /** A member joined, left or was replaced: the ring changes even if no health did. */
  setChanged: boolean;
}

/**
 * Discovery's answer over the current members. A spec with the same URL and retirement keeps its
 * member (and dyshard's own verdict on it); anything else is a new member, healthy unless retired
 * or reported down by discovery.
 */
export function applySpecs(current: readonly (Member | undefined)[], specs: readonly MemberSpec[], now: number, atStart: boolean): Applied {
  const members: (Member | undefined)[] = [];
  const touched: Member[] = [];
  let setChanged = false;
  for (const s of specs) {
    const old = current[s.slot];
    const discoveryHealthy = s.discoveryHealthy ?? true;
    const retired = s.retired ?? false;
    if (old && old.url === s.url && old.retired === retired) {
      if (old.discoveryHealthy !== discoveryHealthy) touched.push(old);
      old.discoveryHealthy = discoveryHealthy;
      if (s.discoveryReason) old.reason = s.discoveryReason;
      members[s.slot] = old;
      continue;
    }
    setChanged = true;
    members[s.slot] = {
      slot: s.slot,
      url: s.url,
      retired,
      discoveryHealthy,
      checksHealthy: true,
      healthy: !retired && discoveryHealthy,
      since: now,
      reason: retired ? "retired" : (s.discoveryReason ?? (atStart ? "assumed up at start" : "joined")),
    };
  }
  if (current.some((m, slot) => m && !members[slot])) setChanged = true;
  return { members, touched, setChanged };
}

/**
 * Recomputes `healthy` (both sources agree, not retired) for the given members; returns those whose
 * health changed, with `since` set to now and `reason` (when given) as why.
 */
export function settleHealth(members: readonly Member[], reason: string, now: number): Member[] {
  const changed: Member[] = [];
  for (const m of members) {
    const healthy = !m.retired && m.discoveryHealthy && m.checksHealthy;
    if (healthy === m.healthy) continue;
    m.healthy = healthy;
    m.since = now;
    if (reason) m.reason = reason;
    changed.push(m);
  }
  return changed;
}
