import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Roster, type Rostered } from "../../src/core/roster.js";

class Item implements Rostered {
  rosterIndex = -1;
  constructor(readonly id: number) {}
}

const ids = (items: Item[]) => items.map((i) => i.id).sort((a, b) => a - b);

describe("Roster (the push path's set of objects in progress)", () => {
  it("holds what a Set would after 20,000 random adds and deletes", () => {
    const items = Array.from({ length: 64 }, (_, i) => new Item(i));
    const roster = new Roster<Item>();
    const reference = new Set<Item>();
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % 64;
    for (let step = 0; step < 20_000; step++) {
      const item = items[next()]!;
      if (next() % 2 === 0) {
        roster.add(item);
        reference.add(item);
      } else assert.equal(roster.delete(item), reference.delete(item), `step ${step}: delete of ${item.id}`);
      assert.equal(roster.size, reference.size, `step ${step}: size`);
    }
    assert.deepEqual(ids(roster.snapshot()), ids([...reference]));
    for (const item of items) assert.equal(item.rosterIndex >= 0, reference.has(item), `item ${item.id} knows whether it is on`);
  });

  it("adds a member once, and does not delete what another roster holds", () => {
    const a = new Roster<Item>();
    const b = new Roster<Item>();
    const x = new Item(1);
    const y = new Item(2);
    a.add(x);
    a.add(x);
    b.add(y);
    assert.equal(a.size, 1);
    assert.equal(a.delete(y), false, "y is on b, at the index x holds on a");
    assert.equal(b.size, 1);
    assert.equal(a.delete(x), true);
    assert.equal(a.delete(x), false);
  });

  it("can be walked while the walker deletes members, and cleared", () => {
    const roster = new Roster<Item>();
    const items = Array.from({ length: 10 }, (_, i) => new Item(i));
    for (const item of items) roster.add(item);
    const seen: number[] = [];
    for (const item of roster.snapshot()) {
      seen.push(item.id);
      if (item.id % 2 === 0) roster.delete(item);
    }
    assert.deepEqual(
      seen.sort((p, q) => p - q),
      ids(items),
      "every member visited once",
    );
    assert.deepEqual(ids(roster.snapshot()), [1, 3, 5, 7, 9]);
    roster.clear();
    assert.equal(roster.size, 0);
    assert.ok(items.every((i) => i.rosterIndex === -1));
  });
});
