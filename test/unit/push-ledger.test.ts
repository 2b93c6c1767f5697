// The push ledger and the plan's use of it: the copy of the last acknowledged push wins over
// copies an instance applied late from pushes dyshard did not acknowledge, whatever their times.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { planHandover, type GroupCopy } from "../../src/handover/plan.js";
import { PushLedger } from "../../src/handover/push-ledger.js";

const ledger = () => new PushLedger({ keepMs: 1000, maxGroups: 3 });

describe("PushLedger", () => {
  it("names the slot of the last acknowledged push once another slot may apply an earlier push late", () => {
    const l = ledger();
    l.acknowledged("g", 1, 5); // not followed: nothing failed yet
    assert.equal(l.size, 0);
    l.unacknowledged("g", 0, 10);
    assert.equal(l.authority("g"), undefined, "no acknowledged push after it yet");
    l.acknowledged("g", 1, 20);
    assert.equal(l.authority("g"), 1);
    l.unacknowledged("g", 2, 30);
    assert.equal(l.authority("g"), 1, "slot 0's doubtful push is still older than the ack");
  });

  it("forgets a group when the doubtful slot itself acknowledges later, or the handover resolved it", () => {
    const l = ledger();
    const forgotten: string[] = [];
    l.onForget = (g) => forgotten.push(g);
    l.unacknowledged("a", 0, 10);
    l.acknowledged("a", 1, 20);
    l.acknowledged("a", 0, 30);
    assert.equal(l.has("a"), false);
    l.unacknowledged("b", 0, 10);
    l.resolved("b");
    assert.deepEqual(forgotten, ["a", "b"]);
  });

  it("expires idle entries unless a doubtful slot is still down, and keeps at most maxGroups", () => {
    const l = ledger();
    l.unacknowledged("a", 0, 0);
    l.unacknowledged("b", 1, 0);
    l.expire(2000, (slot) => slot === 0);
    assert.deepEqual(l.groups(), ["a"]);
    for (const g of ["c", "d", "e"]) l.unacknowledged(g, 2, 3000);
    assert.deepEqual(l.groups(), ["c", "d", "e"], "the oldest dropped first");
  });
});

describe("planHandover with the ledger's verdict", () => {
  const group = { job: "j", instance: "a" };
  const copy = (slot: number, pushTime: number): GroupCopy => ({ slot, labels: group, pushTime, families: ["v"] });
  const inventoried = new Set([0, 1, 2]);

  it("copies the acknowledged copy to the owner though the owner's (unacknowledged) copy is newer", () => {
    const plan = planHandover({ copies: [copy(0, 200), copy(1, 100)], ownerOf: () => 0, inventoried, authority: () => 1 });
    assert.deepEqual(plan.steps, [
      {
        action: "copy",
        group,
        owner: 0,
        source: 1,
        from: [1],
        reason: "slot 1 holds the last acknowledged push; the other copies were not acknowledged",
        acknowledged: true,
      },
    ]);
    const trusting = planHandover({ copies: [copy(0, 200), copy(1, 100)], ownerOf: () => 0, inventoried });
    assert.equal(trusting.steps[0]?.action, "delete", "without the ledger the newer push time wins");
  });

  it("keeps the owner's acknowledged copy and deletes newer unacknowledged ones elsewhere", () => {
    const plan = planHandover({ copies: [copy(0, 100), copy(2, 300)], ownerOf: () => 0, inventoried, authority: () => 0 });
    assert.deepEqual(
      plan.steps.map((s) => [s.action, s.from]),
      [["delete", [2]]],
    );
    assert.equal((plan.steps[0] as { acknowledged?: boolean }).acknowledged, true);
  });

  it("falls back to push times when the acknowledged slot holds no copy", () => {
    const plan = planHandover({ copies: [copy(0, 100), copy(2, 300)], ownerOf: () => 0, inventoried, authority: () => 1 });
    assert.equal(plan.steps[0]?.action, "copy");
    assert.equal((plan.steps[0] as { source: number }).source, 2);
  });
});
