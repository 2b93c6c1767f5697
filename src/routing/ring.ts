// A jump-hash ring over stable slots. Slot numbers never change: a member keeps its slot for life
// and a retired one stays as a tombstone, because jump hash can only add or drop buckets at the
// end (renumbering moves most keys; docs/facts/routing.md). Unhealthy slots and tombstones are skipped by
// re-jumping with a per-attempt seed, which keeps every other key where it is and spreads the
// skipped slot's keys evenly over the rest.
import type { Hash64 } from "./hash.js";
import { jump } from "./jump.js";

export type SlotState = "healthy" | "unhealthy" | "tombstone";

/** Re-jumps before the deterministic fallback; with half the slots down, 2^-32 of keys get there. */
export const MAX_ATTEMPTS = 32;
const FALLBACK_SEED = 0x9e3779b97f4a7c15n;
const SEEDS = Array.from({ length: MAX_ATTEMPTS }, (_, i) => BigInt(i));
// The 64-bit hash is split into the halves jump() takes through a typed array: two BigInt
// operations per push (shift, mask) cost more than the rest of the jump.
const HASH = new BigUint64Array(1);
const HALVES = new Uint32Array(HASH.buffer);
const LOW = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1; // little-endian: low half first
const HIGH = 1 - LOW;

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
    if (this.healthySlots.length === 0) return undefined; // also guards jump() against 0 buckets
    const n = this.slots.length;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      HASH[0] = this.hash(key, SEEDS[attempt]);
      const slot = jump(HALVES[HIGH] as number, HALVES[LOW] as number, n);
      if (this.slots[slot] === "healthy") return slot;
    }
    return this.healthySlots[this.fallbackIndex(key)];
  }

  /**
   * Up to `n` distinct healthy slots for `key`, in the order of its re-jump sequence: the first is
   * `owner(key)`, and when it fails the next one becomes the owner. Fewer when fewer are healthy.
   */
  owners(key: string, n: number): number[] {
    const want = Math.min(n, this.healthySlots.length);
    const out: number[] = [];
    if (want === 0) return out;
    const slotCount = this.slots.length;
    for (let attempt = 0; attempt < MAX_ATTEMPTS && out.length < want; attempt++) {
      HASH[0] = this.hash(key, SEEDS[attempt]);
      const slot = jump(HALVES[HIGH] as number, HALVES[LOW] as number, slotCount);
      if (this.slots[slot] === "healthy" && !out.includes(slot)) out.push(slot);
    }
    // The sequence did not find enough: the rest in owner()'s fallback order.
    const start = out.length === 0 ? this.fallbackIndex(key) : 0;
    for (let i = 0; out.length < want; i++) {
      const slot = this.healthySlots[(start + i) % this.healthySlots.length] as number;
      if (!out.includes(slot)) out.push(slot);
    }
    return out;
  }

  private fallbackIndex(key: string): number {
    return Number(this.hash(key, FALLBACK_SEED) % BigInt(this.healthySlots.length));
  }
}
