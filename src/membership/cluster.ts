// The set of upstream Pushgateways, their health, and the ring built from them. Every health
// change rebuilds the ring at once (it is immutable, so a request in flight keeps the ring it read).
import { EventEmitter } from "node:events";
import type { UpstreamConfig } from "../config/schema.js";
import type { Hash64 } from "../ring/hash.js";
import { Ring, type SlotState } from "../ring/ring.js";

export interface Member {
  slot: number;
  url: string;
  retired: boolean;
  healthy: boolean;
  /** Epoch ms of the last health change (or of start). */
  since: number;
  /** Why the member is in its current state. */
  reason: string;
}

export interface HealthChange {
  member: Member;
  healthy: boolean;
  reason: string;
}

export class Cluster extends EventEmitter<{ change: [HealthChange] }> {
  /** Indexed by slot; undefined where no upstream was ever configured (a tombstone). */
  readonly members: (Member | undefined)[] = [];
  ring: Ring;

  constructor(
    upstreams: UpstreamConfig[],
    private readonly hash: Hash64,
  ) {
    super();
    const now = Date.now();
    for (const u of upstreams) {
      this.members[u.slot] = { slot: u.slot, url: u.url, retired: u.retired, healthy: !u.retired, since: now, reason: u.retired ? "retired" : "assumed up at start" };
    }
    this.ring = this.buildRing();
  }

  /** Members that can own groups (configured and not retired). */
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

  setHealth(slot: number, healthy: boolean, reason: string): boolean {
    const m = this.members[slot];
    if (!m || m.retired || m.healthy === healthy) return false;
    m.healthy = healthy;
    m.since = Date.now();
    m.reason = reason;
    this.ring = this.buildRing();
    this.emit("change", { member: m, healthy, reason });
    return true;
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
