import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { planHandover, type GroupCopy } from "../../src/handover/plan.js";

const g = (instance: string) => ({ job: "j", instance });
const copy = (slot: number, instance: string, pushTime: number | undefined, families = ["m"]): GroupCopy => ({
  slot,
  labels: g(instance),
  pushTime,
  families,
});
/** Owner by instance name: "a…" on slot 0, "b…" on 1, "c…" on 2, "x…" has no healthy owner. */
const ownerOf = (labels: Record<string, string>) => ({ a: 0, b: 1, c: 2 })[labels.instance![0] as "a"];
const all = new Set([0, 1, 2]);

describe("planHandover", () => {
  it("leaves groups that are only on their owner alone", () => {
    const plan = planHandover({ copies: [copy(0, "a1", 10), copy(1, "b1", 10)], ownerOf, inventoried: all });
    assert.deepEqual(plan, { groups: 2, misplaced: 0, expired: 0, steps: [] });
  });

  it("deletes a stale copy when the owner holds the same or a newer push", () => {
    for (const ownerTime of [10, 11]) {
      const plan = planHandover({ copies: [copy(0, "a1", ownerTime), copy(2, "a1", 10)], ownerOf, inventoried: all });
      assert.deepEqual(plan.steps, [
        { action: "delete", group: g("a1"), owner: 0, from: [2], reason: "owner holds the same or a newer push" },
      ]);
    }
  });

  it("copies the newest stale copy when the owner lacks the group or holds an older one, then deletes every stale copy", () => {
    const lacks = planHandover({ copies: [copy(1, "a1", 5), copy(2, "a1", 9)], ownerOf, inventoried: all });
    assert.deepEqual(lacks.steps, [{ action: "copy", group: g("a1"), owner: 0, source: 2, from: [2, 1], reason: "owner lacks the group" }]);
    const older = planHandover({ copies: [copy(0, "a1", 3), copy(1, "a1", 5)], ownerOf, inventoried: all });
    assert.deepEqual(older.steps, [
      { action: "copy", group: g("a1"), owner: 0, source: 1, from: [1], reason: "owner holds an older push" },
    ]);
  });

  it("merges families the owner lacks before deleting (POST-style jobs push some families at a time)", () => {
    const plan = planHandover({ copies: [copy(0, "a1", 20, ["m"]), copy(1, "a1", 10, ["m", "extra"])], ownerOf, inventoried: all });
    assert.equal(plan.steps[0]!.action, "merge");
    assert.deepEqual((plan.steps[0] as { families: string[] }).families, ["extra"]);
  });

  it("leaves a group whose owner is unhealthy, unknown, or could not be inventoried", () => {
    const none = planHandover({ copies: [copy(1, "x1", 10)], ownerOf, inventoried: all });
    assert.deepEqual(none.steps, [{ action: "leave", group: g("x1"), owner: null, from: [1], reason: "no healthy owner" }]);
    const unread = planHandover({ copies: [copy(1, "a1", 10)], ownerOf, inventoried: new Set([1, 2]) });
    assert.equal(unread.steps[0]!.action, "leave");
  });

  it("treats a group never pushed successfully as the oldest", () => {
    const plan = planHandover({ copies: [copy(0, "a1", undefined), copy(1, "a1", 1)], ownerOf, inventoried: all });
    assert.equal(plan.steps[0]!.action, "copy");
  });

  it("keeps groups that differ only by an empty label apart", () => {
    const plan = planHandover({
      copies: [{ slot: 1, labels: { job: "j", instance: "a1", x: "" }, pushTime: 1, families: ["m"] }, copy(0, "a1", 1)],
      ownerOf,
      inventoried: all,
    });
    assert.equal(plan.groups, 2);
    assert.equal(plan.steps.length, 1);
  });
});
