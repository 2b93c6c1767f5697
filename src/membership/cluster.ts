// The set of upstream Pushgateways, their health, and the ring built from them. A member's health
// has two sources: discovery (static: always up; Consul: all checks passing) and dyshard's own
// view (active checks and passive failures). It is healthy when both say so. Every change rebuilds
// the ring at once; the ring is immutable, so a request in flight keeps the ring it read.
import { EventEmitter } from "node:events";
import type { Hash64 } from "../ring/hash.js";
import { Ring, type SlotState } from "../ring/ring.js";

/** What discovery knows of one upstream. */
export interface MemberSpec {
  slot: number;
  url: string;
  retired?: boolean;
  /** Discovery's verdict (static upstreams: always true) and why. */
  discovered?: boolean;
  discoveryReason?: string;
}

export interface Member {
  slot: number;
  url: string;
  retired: boolean;
  discovered: boolean;
  /** dyshard's own view: false after failing active checks or a refused/reset connection. */
  reachable: boolean;
  healthy: boolean;
  /** Epoch ms of the last health change (or of joining). */
  since: number;
  /** Why the member is in its current state. */
  reason: string;
}

export interface HealthChange {
  member: Member;
  healthy: boolean;
  reason: string;
}

export class Cluster extends EventEmitter<{ change: [HealthChange]; ring: [Ring] }> {
  /** Indexed by slot; undefined where no upstream is known (a tombstone). */
  members: (Member | undefined)[] = [];
  ring: Ring;

  constructor(
    specs: MemberSpec[],
    private readonly hash: Hash64,
  ) {
    super();
    this.ring = this.apply(specs, "start");
  }

  /** Members that can own groups (known and not retired). */
  active(): Member[] {
    return this.members.filter((m): m is Member => m !== undefined && !m.retired);
  }

  /** The member that owns a routing key on the current ring, undefined when none is healthy. */
  owner(key: string): Member | undefined {
    const slot = this.ring.owner(key);
    return slot === undefined ? undefined : this.members[slot];
  }

  healthyCount(): number {
    return this.ring.healthySlots.length;
  }

  /** dyshard's own verdict on a member (active checks, passive failures). */
  setHealth(slot: number, reachable: boolean, reason: string): boolean {
    const m = this.members[slot];
    if (!m || m.retired || m.reachable === reachable) return false;
    m.reachable = reachable;
    return this.settle([m], reason);
  }

  /** Replaces the membership with discovery's latest answer. */
  update(specs: MemberSpec[]): void {
    this.apply(specs, "discovery");
  }

  private apply(specs: MemberSpec[], cause: string): Ring {
    const now = Date.now();
    const next: (Member | undefined)[] = [];
    const touched: Member[] = [];
    let changedSet = false;
    for (const s of specs) {
      const old = this.members[s.slot];
      const discovered = s.discovered ?? true;
      if (old && old.url === s.url && old.retired === (s.retired ?? false)) {
        if (old.discovered !== discovered) touched.push(old);
        old.discovered = discovered;
        if (s.discoveryReason) old.reason = s.discoveryReason;
        next[s.slot] = old;
      } else {
        changedSet = true;
        const retired = s.retired ?? false;
        const healthy = !retired && discovered;
        next[s.slot] = {
          slot: s.slot,
          url: s.url,
          retired,
          discovered,
          reachable: true,
          healthy,
          since: now,
          reason: retired ? "retired" : (s.discoveryReason ?? (cause === "start" ? "assumed up at start" : "joined")),
        };
      }
    }
    if (this.members.some((m, slot) => m && !next[slot])) changedSet = true;
    this.members = next;
    if (cause === "start") return (this.ring = this.buildRing());
    const settled = this.settle(touched, "", changedSet);
    if (!settled && changedSet) this.rebuild();
    return this.ring;
  }

  /** Recomputes `healthy` for the given members; rebuilds the ring and tells listeners if any changed. */
  private settle(members: Member[], reason: string, force = false): boolean {
    const changed: Member[] = [];
    for (const m of members) {
      const healthy = !m.retired && m.discovered && m.reachable;
      if (healthy === m.healthy) continue;
      m.healthy = healthy;
      m.since = Date.now();
      if (reason) m.reason = reason;
      changed.push(m);
    }
    if (changed.length === 0 && !force) return false;
    this.rebuild();
    for (const m of changed) this.emit("change", { member: m, healthy: m.healthy, reason: m.reason });
    return true;
  }

  private rebuild(): void {
    this.ring = this.buildRing();
    this.emit("ring", this.ring);
  }

  private buildRing(): Ring {
    const slots: SlotState[] = [];
    for (let i = 0; i < this.members.length; i++) {
      const m = this.members[i];
      slots.push(!m || m.retired ? "tombstone" : m.healthy ? "healthy" : "unhealthy");
    }
    return new Ring(slots, this.hash);
  }
}
