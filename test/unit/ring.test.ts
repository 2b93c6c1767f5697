import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { loadHash64, type Hash64 } from "../../src/routing/hash.js";
import { jumpHash } from "../../src/routing/jump.js";
import { Ring, type SlotState } from "../../src/routing/ring.js";

let h64: Hash64;
before(async () => {
  h64 = await loadHash64();
});

const keys = (n: number) => Array.from({ length: n }, (_, i) => `{instance="host-${i}",job="batch-${i % 97}"}`);
const healthy = (n: number): SlotState[] => Array.from({ length: n }, () => "healthy");

describe("jumpHash", () => {
  it("matches the published vectors", () => {
    assert.equal(jumpHash(256n, 1024), 520);
    assert.deepEqual(
      [0n, 1n, 2n, 3n].map((k) => jumpHash(k, 100)),
      [0, 55, 62, 8],
    );
    assert.equal(jumpHash(12345678901234567n, 100), 5);
    assert.equal(jumpHash(2n ** 64n - 1n, 100), 92);
  });
  it("moves only 1/(n+1) of keys when a bucket is added at the end", () => {
    const ks = keys(20_000).map((k) => h64(k));
    const moved = ks.filter((k) => jumpHash(k, 8) !== jumpHash(k, 9)).length / ks.length;
    assert.ok(Math.abs(moved - 1 / 9) < 0.01, `moved ${moved}`);
  });
  it("rejects a bucket count below 1", () => {
    assert.throws(() => jumpHash(1n, 0), RangeError);
  });
});

describe("xxhash-wasm h64", () => {
  it("gives the reference value", () => {
    assert.equal(h64("abc"), 0x44bc2cf5ad770999n);
  });
});

describe("Ring", () => {
  const N = 20_000;
  const ks = keys(N);

  for (const size of [3, 8]) {
    it(`with ${size} slots: a failed member's keys spread within ±10% of even, healthy members lose none, all come back`, () => {
      const before = new Ring(healthy(size), h64);
      const down = healthy(size);
      down[1] = "unhealthy";
      const during = new Ring(down, h64);
      const moved = new Map<number, number>();
      for (const k of ks) {
        const a = before.owner(k) as number;
        const b = during.owner(k) as number;
        assert.notEqual(b, 1);
        if (a !== 1) assert.equal(b, a, `key ${k} moved off healthy slot ${a}`);
        else moved.set(b, (moved.get(b) ?? 0) + 1);
      }
      const total = [...moved.values()].reduce((x, y) => x + y, 0);
      const even = total / (size - 1);
      assert.equal(moved.size, size - 1);
      for (const [slot, n] of moved) assert.ok(Math.abs(n - even) / even <= 0.1, `slot ${slot} took ${n}, even is ${even}`);
      const after = new Ring(healthy(size), h64);
      for (const k of ks) assert.equal(after.owner(k), before.owner(k));
    });
  }

  it("spreads keys evenly over healthy slots", () => {
    const ring = new Ring(healthy(3), h64);
    const count = [0, 0, 0];
    for (const k of ks) count[ring.owner(k) as number]! += 1;
    for (const c of count) assert.ok(Math.abs(c - N / 3) / (N / 3) < 0.05, `counts ${count}`);
  });

  it("skips tombstones and keeps other keys where they are", () => {
    const withTomb: SlotState[] = ["healthy", "tombstone", "healthy", "healthy"];
    const ring = new Ring(withTomb, h64);
    const full = new Ring(healthy(4), h64);
    for (const k of ks) {
      const o = ring.owner(k) as number;
      assert.notEqual(o, 1);
      if (full.owner(k) !== 1) assert.equal(o, full.owner(k));
    }
  });

  it("two rings built from the same inputs agree on every key", () => {
    const s: SlotState[] = ["healthy", "unhealthy", "healthy", "tombstone", "healthy"];
    const a = new Ring(s, h64);
    const b = new Ring([...s], h64);
    for (const k of ks) assert.equal(a.owner(k), b.owner(k));
  });

  it("answers undefined when nothing is healthy, and falls back deterministically when one of many slots is", () => {
    assert.equal(new Ring(["unhealthy", "unhealthy"], h64).owner("k"), undefined);
    const mostlyDown: SlotState[] = Array.from({ length: 64 }, (_, i) => (i === 40 ? "healthy" : "unhealthy"));
    const ring = new Ring(mostlyDown, h64);
    for (const k of ks.slice(0, 2000)) assert.equal(ring.owner(k), 40);
  });
});

describe("Ring.owners", () => {
  it("starts with owner(key); when the owner fails, the new owner is the old first standby (property over 2,000 keys)", () => {
    const slots: SlotState[] = ["healthy", "healthy", "healthy", "healthy", "healthy"];
    const ring = new Ring(slots, h64);
    for (let i = 0; i < 2000; i++) {
      const key = `{instance="i${i}",job="j"}`;
      const owners = ring.owners(key, 3);
      assert.equal(owners.length, 3);
      assert.equal(new Set(owners).size, 3);
      assert.equal(owners[0], ring.owner(key));
      const failed = slots.map((s, slot) => (slot === owners[0] ? "unhealthy" : s));
      const after = new Ring(failed, h64);
      assert.equal(after.owner(key), owners[1]);
      assert.deepEqual(after.owners(key, 2), owners.slice(1, 3));
    }
  });

  it("gives fewer when fewer are healthy, none when none is, and never a tombstone", () => {
    const ring = new Ring(["tombstone", "healthy", "unhealthy"], h64);
    assert.deepEqual(ring.owners("k", 3), [1]);
    assert.deepEqual(new Ring(["unhealthy", "tombstone"], h64).owners("k", 2), []);
  });
});
