// A jump-hash ring over stable slots. Slot numbers never change: a member keeps its slot for life
// and a retired one stays as a tombstone, because jump hash can only add or drop buckets at the
// end (renumbering moves most keys; routing.md). Unhealthy slots and tombstones are skipped by
// re-jumping with a per-attempt seed, which keeps every other key where it is and spreads the
// skipped slot's keys evenly over the rest.
import type { Hash64 } from "./hash.js";
import { jump } from "./jump.js";

export type SlotState = "healthy" | "unhealthy" | "tombstone";

/** Re-jumps before the deterministic fallback; with half the slots down, 2^-32 of keys get there. */
export const MAX_ATTEMPTS = 32;
const FALLBACK_SEED = 0x9e3779b97f4a7c15n;
const SEEDS = Array.from({ length: MAX_ATTEMPTS }, (_, i) => BigInt(i));

export class Ring {
  readonly healthySlots: readonly number[];

  /** `slots[i]` is the state of slot i; the slot count is the jump hash's bucket count. */
  constructor(
    readonly slots: readonly SlotState[],
    private readonly hash: Hash64,
  ) {
    this.healthySlots = slots.flatMap((s, i) => (s === "healthy" ? [i] : []));
  }

  /** The slot that owns `key`, or undefined when no slot is healthy. */
  owner(key: string): number | undefined {
    if (this.healthySlots.length === 0) return undefined;
    const n = this.slots.length;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const h = this.hash(key, SEEDS[attempt]);
      const slot = jump(Number(h >> 32n), Number(BigInt.asUintN(32, h)), n);
      if (this.slots[slot] === "healthy") return slot;
    }
    const h = this.hash(key, FALLBACK_SEED);
    return this.healthySlots[Number(h % BigInt(this.healthySlots.length))];
  }
}
