// The handover plan with standby copies (--replicas R ≥ 2), rule by rule: a group's primary and
// standby copies are planned together, the newest push wins across both, a standby copy is
// promoted when the owner lost the group, standby slots are re-replicated, copies where they no
// longer belong are deleted, and slots that could not be read are left alone.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { planHandover, type GroupCopy, type PlanInput } from "../../src/handover/plan.js";

const group = { job: "j", instance: "a" };
const standbyOf = { ...group, dyshard_replica: "1" };
type Copy = GroupCopy & { data: string };
/** A primary copy; `data` names its samples (copies with the same name hold the same samples). */
const p = (slot: number, pushTime: number | undefined, data = "d1", families = ["m"]): Copy => ({
  slot,
  labels: group,
  pushTime,
  families,
  data,
});
/** A standby copy (the group with dyshard_replica="1"). */
const s = (slot: number, pushTime: number | undefined, data = "d1", families = ["m"]): Copy => ({
  slot,
  labels: standbyOf,
  pushTime,
  families,
  data,
});
const all = new Set([0, 1, 2, 3]);

function plan(copies: Copy[], owners: number[], extra: Partial<PlanInput> = {}) {
  return planHandover({
    copies,
    ownersOf: () => owners,
    inventoried: all,
    sameData: (a, b) => (a as Copy).data === (b as Copy).data,
    ...extra,
  });
}

/** The one step of a plan, without its reason (asserted apart where it matters). */
function only(copies: Copy[], owners: number[], extra: Partial<PlanInput> = {}): Record<string, unknown> | undefined {
  const { steps } = plan(copies, owners, extra);
  assert.ok(steps.length <= 1, JSON.stringify(steps));
  if (!steps[0]) return undefined;
  const { reason: _reason, ...rest } = steps[0];
  return rest;
}

describe("planHandover with standby copies", () => {
  it("leaves a group alone when the owner holds the primary and each standby slot its standby copy (one push: same samples)", () => {
    const result = plan([p(0, 100), s(1, 100.2)], [0, 1]);
    assert.deepEqual(result, { groups: 1, misplaced: 0, expired: 0, steps: [] }, "a group and its standby copy are one group");
    assert.equal(only([p(0, 100.2), s(1, 100)], [0, 1]), undefined, "the standby copy written first is not older either");
    assert.equal(only([p(0, 100), s(1, 100.2), s(2, 100.3)], [0, 1, 2]), undefined, "R = 3");
  });

  it("promotes the standby copy when the owner lacks the group (the owner died with its disk and came back empty)", () => {
    assert.deepEqual(only([s(1, 100)], [0, 1]), {
      action: "copy",
      group,
      owner: 0,
      source: 1,
      promote: true,
      from: [],
      standbys: [1],
      replicate: [],
      standbyFrom: [],
    });
    assert.match(plan([s(1, 100)], [0, 1]).steps[0]!.reason, /^owner lacks the group: the standby copy on slot 1 is promoted$/);
  });

  it("promotes in place when the owner is gone: the standby slot becomes the owner, its standby copy goes once the next slot holds one", () => {
    // owners were [0, 1]; slot 0 is down, so the ring now says [1, 2].
    assert.deepEqual(only([s(1, 100)], [1, 2]), {
      action: "copy",
      group,
      owner: 1,
      source: 1,
      promote: true,
      from: [],
      standbys: [2],
      replicate: [2],
      standbyFrom: [1],
    });
  });

  it("promotes a standby copy newer than the owner's primary, unless it holds the same samples", () => {
    const step = only([p(0, 100, "d1"), s(1, 130, "d2")], [0, 1]);
    assert.deepEqual([step?.action, step?.promote, step?.replicate], ["copy", true, []], "newer samples win");
    assert.equal(only([p(0, 100, "d1"), s(1, 130, "d1")], [0, 1]), undefined, "the same push, its copies written 30 s apart");
    // The handover stamps what it writes: a standby copy it rewrote an hour after the primary's push is not a newer push.
    assert.equal(only([p(0, 100, "d1"), s(1, 3700, "d1")], [0, 1]), undefined);
    assert.equal(only([p(0, 200, "d1"), s(1, 100, "d2")], [0, 1])?.action, "replicate", "an older standby copy is rewritten, not promoted");
    assert.equal(only([p(0, 100, "d0"), p(2, 130, "d1"), s(1, 120, "d0")], [0, 1])?.action, "copy", "two primaries: push times decide");
  });

  it("copies a primary holding the newest push as it is: a promotion is when only a standby copy holds it", () => {
    // The interim owner's primary and the standby copy written after it hold the same push.
    const step = only([p(1, 100, "d1"), s(2, 100.5, "d1")], [0, 2]);
    assert.deepEqual([step?.action, step?.source, step?.promote], ["copy", 1, undefined]);
    assert.deepEqual([step?.from, step?.replicate], [[1], []]);
  });

  it("copies a stale primary newer than every standby copy, as a primary (no promotion)", () => {
    const step = only([p(0, 50, "d0"), p(2, 120, "d2"), s(1, 100, "d1")], [0, 1]);
    assert.deepEqual(step, {
      action: "copy",
      group,
      owner: 0,
      source: 2,
      from: [2],
      standbys: [1],
      replicate: [1],
      standbyFrom: [],
    });
  });

  it("re-replicates: a standby slot lacking the standby copy, or holding older samples, gets it", () => {
    assert.deepEqual(only([p(0, 100)], [0, 1]), {
      action: "replicate",
      group,
      owner: 0,
      from: [],
      standbys: [1],
      replicate: [1],
      standbyFrom: [],
    });
    assert.match(plan([p(0, 100)], [0, 1]).steps[0]!.reason, /standby slot 1 lacks the standby copy or holds an older one/);
    assert.deepEqual(only([p(0, 100, "d2"), s(1, 90, "d1"), s(2, 100.1, "d2")], [0, 1, 2])?.replicate, [1], "only the older one");
    assert.deepEqual(only([p(0, 100)], [0, 1, 3])?.replicate, [1, 3], "a scale-up to R = 3, or a recovery");
  });

  it("deletes standby copies where they no longer belong (on the owner, on a slot past R) and primaries off the owner", () => {
    assert.deepEqual(only([p(0, 100), s(0, 100.1), s(1, 100.1)], [0, 1]), {
      action: "delete",
      group,
      owner: 0,
      from: [],
      standbys: [1],
      replicate: [],
      standbyFrom: [0],
    });
    assert.deepEqual(only([p(0, 100), s(1, 100.1), s(3, 100.1)], [0, 1])?.standbyFrom, [3]);
    const offOwner = only([p(0, 100), p(1, 90, "d0")], [0, 1]);
    assert.deepEqual(
      [offOwner?.action, offOwner?.from, offOwner?.replicate],
      ["replicate", [1], [1]],
      "a stale primary on the standby slot",
    );
  });

  it("re-replicates every standby slot when the owner's primary is merged (the primary changes)", () => {
    const step = only([p(0, 100, "d1", ["m"]), s(1, 100.1, "d1", ["m"]), p(2, 90, "d0", ["m", "extra"])], [0, 1]);
    assert.deepEqual(step, {
      action: "merge",
      group,
      owner: 0,
      source: 2,
      families: ["extra"],
      from: [2],
      standbys: [1],
      replicate: [1],
      standbyFrom: [],
    });
  });

  it("leaves what concerns a slot that could not be read: no standby copy written there, stale standby copies kept", () => {
    const inventoried = new Set([0, 2, 3]);
    const step = plan([p(0, 100), s(0, 100.1), p(2, 90, "d0")], [0, 1], { inventoried }).steps[0]!;
    assert.deepEqual([step.action, step.from, step.replicate, step.standbyFrom], ["delete", [2], [], []]);
    assert.match(step.reason, /standby slot 1 could not be inventoried: stale standby copies kept/);
    assert.equal(only([p(0, 100), s(0, 100.1)], [0, 1], { inventoried }), undefined, "nothing else to do: no step");
    const unreadOwner = plan([s(1, 100), s(3, 100)], [0, 1], { inventoried: new Set([1, 2, 3]) }).steps;
    assert.deepEqual(
      unreadOwner.map((x) => [x.action, x.owner, x.standbyFrom]),
      [["leave", 0, [3]]],
    );
    assert.deepEqual(plan([s(1, 100)], [0, 1], { inventoried: new Set([1, 2, 3]) }).steps, [], "copies in place: nothing to leave");
  });

  it("with one copy per group (R = 1), standby copies left from R = 2 are promoted or deleted", () => {
    assert.deepEqual(only([p(0, 100), s(1, 100.1)], [0]), {
      action: "delete",
      group,
      owner: 0,
      from: [],
      standbys: [],
      replicate: [],
      standbyFrom: [1],
    });
    assert.deepEqual(only([s(1, 100)], [0]), {
      action: "copy",
      group,
      owner: 0,
      source: 1,
      promote: true,
      from: [],
      standbys: [],
      replicate: [],
      standbyFrom: [1],
    });
  });

  it("keeps the ledger's meaning for the primary; standby copies follow the acknowledged copy", () => {
    // Slot 2 holds the last acknowledged push; the owner applied a later, unacknowledged one, and so did its standby slot.
    const copies = [p(0, 200, "late"), s(1, 200.1, "late"), p(2, 100, "acked")];
    assert.deepEqual(only(copies, [0, 1], { authority: () => 2 }), {
      action: "copy",
      group,
      owner: 0,
      source: 2,
      acknowledged: true,
      from: [2],
      standbys: [1],
      replicate: [1],
      standbyFrom: [],
    });
    const atOwner = only([p(0, 100, "acked"), s(1, 200, "late")], [0, 1], { authority: () => 0 });
    assert.deepEqual([atOwner?.action, atOwner?.acknowledged, atOwner?.replicate], ["replicate", true, [1]]);
    assert.equal(only([p(0, 100, "acked"), s(1, 100.1, "acked")], [0, 1], { authority: () => 0 }), undefined);
  });

  it("routes a standby copy as its group: ownersOf is asked with the labels without the replica label", () => {
    const asked: Record<string, string>[] = [];
    planHandover({ copies: [s(1, 1)], ownersOf: (l) => (asked.push(l), [0, 1]), inventoried: all });
    assert.deepEqual(asked, [group]);
  });
});
