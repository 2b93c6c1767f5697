// The set of upstream Pushgateways, their health, and the ring built from them. A member's health
// has two sources: discovery (static: always up; Consul: all checks passing) and dyshard's own
// view (active checks and passive failures). It is healthy when both say so. Every change rebuilds
// the ring at once; the ring is immutable, so a request in flight keeps the ring it read.
import { EventEmitter } from "node:events";
import type { Hash64 } from "../routing/hash.js";
import { Ring, type SlotState } from "../routing/ring.js";
import type { HealthChange, Member, MemberSpec } from "./member.js";
import { applySpecs, settleHealth } from "./member-state.js";

export type { HealthChange, Member, MemberSpec } from "./member.js";

export class Membership extends EventEmitter<{ change: [HealthChange]; ring: [Ring] }> {
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
  setHealth(slot: number, checksHealthy: boolean, reason: string): boolean {
    const m = this.members[slot];
    if (!m || m.retired || m.checksHealthy === checksHealthy) return false;
    m.checksHealthy = checksHealthy;
    return this.settle([m], reason);
  }

  /** Replaces the membership with discovery's latest answer. */
  update(specs: MemberSpec[]): void {
    this.apply(specs, "discovery");
  }

  private apply(specs: MemberSpec[], cause: "start" | "discovery"): Ring {
    const { members, touched, setChanged } = applySpecs(this.members, specs, Date.now(), cause === "start");
    this.members = members;
    if (cause === "start") return (this.ring = this.buildRing());
    if (!this.settle(touched, "", setChanged) && setChanged) this.rebuild();
    return this.ring;
  }

  /** Settles the members' health; rebuilds the ring and tells listeners if any changed (or if `force`). */
  private settle(members: Member[], reason: string, force = false): boolean {
    const changed = settleHealth(members, reason, Date.now());
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
