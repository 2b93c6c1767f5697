// The membership's state machine: discovery's answers and dyshard's own checks → each member's health.
import { test } from "node:test";
import assert from "node:assert/strict";
import { applySpecs, settleHealth } from "../../src/membership/member-state.js";
import type { Member } from "../../src/membership/member.js";

const A = "http://a:9091";
const B = "http://b:9091";

function start(...urls: string[]): (Member | undefined)[] {
  return applySpecs(
    [],
    urls.map((url, slot) => ({ slot, url })),
    1000,
    true,
  ).members;
}

test("at start every member is healthy, assumed up, since the given time", () => {
  const members = start(A, B);
  assert.deepEqual(
    members.map((m) => [m?.healthy, m?.discoveryHealthy, m?.checksHealthy, m?.since, m?.reason]),
    [
      [true, true, true, 1000, "assumed up at start"],
      [true, true, true, 1000, "assumed up at start"],
    ],
  );
});

test("a member discovery reports down is unhealthy once settled, with discovery's reason", () => {
  const current = start(A, B);
  const applied = applySpecs(
    current,
    [
      { slot: 0, url: A },
      { slot: 1, url: B, discoveryHealthy: false, discoveryReason: "check failing" },
    ],
    2000,
    false,
  );
  assert.equal(applied.setChanged, false, "same URLs on the same slots: no member joined or left");
  assert.deepEqual(
    applied.touched.map((m) => m.slot),
    [1],
  );
  assert.equal(applied.members[1], current[1], "the member keeps its identity");
  const changed = settleHealth(applied.touched, "", 2000);
  assert.deepEqual(
    changed.map((m) => [m.slot, m.healthy, m.since, m.reason]),
    [[1, false, 2000, "check failing"]],
  );
});

test("healthy needs both sources: discovery up and checks down is unhealthy, and back when checks pass", () => {
  const [a] = start(A) as Member[];
  a!.checksHealthy = false;
  assert.deepEqual(settleHealth([a!], "3 failed checks", 5000).length, 1);
  assert.equal(a!.healthy, false);
  assert.equal(a!.reason, "3 failed checks");
  // Discovery says up again: still unhealthy while the checks say down.
  const again = applySpecs([a], [{ slot: 0, url: A, discoveryHealthy: true }], 6000, false);
  assert.equal(settleHealth(again.touched, "", 6000).length, 0);
  assert.equal(a!.healthy, false);
  assert.equal(a!.since, 5000, "since moves only when health changes");
  a!.checksHealthy = true;
  assert.equal(settleHealth([a!], "2 passing checks", 7000).length, 1);
  assert.equal(a!.healthy, true);
});

test("settling an unchanged member changes nothing, its reason included", () => {
  const [a] = start(A) as Member[];
  assert.deepEqual(settleHealth([a!], "ignored", 9000), []);
  assert.equal(a!.reason, "assumed up at start");
  assert.equal(a!.since, 1000);
});

test("a new URL on a slot is a new member: joined, healthy, the set changed", () => {
  const current = start(A, B);
  current[1]!.checksHealthy = false;
  const applied = applySpecs(
    current,
    [
      { slot: 0, url: A },
      { slot: 1, url: "http://c:9091" },
    ],
    3000,
    false,
  );
  assert.equal(applied.setChanged, true);
  assert.notEqual(applied.members[1], current[1]);
  assert.deepEqual(
    [applied.members[1]?.healthy, applied.members[1]?.checksHealthy, applied.members[1]?.reason, applied.members[1]?.since],
    [true, true, "joined", 3000],
  );
});

test("a retired member is never healthy; a member gone from the answer leaves a tombstone", () => {
  const current = start(A, B);
  const applied = applySpecs(current, [{ slot: 1, url: B, retired: true }], 4000, false);
  assert.equal(applied.setChanged, true);
  assert.equal(applied.members[0], undefined, "slot 0 is a tombstone");
  assert.deepEqual([applied.members[1]?.retired, applied.members[1]?.healthy, applied.members[1]?.reason], [true, false, "retired"]);
  applied.members[1]!.checksHealthy = true;
  assert.deepEqual(settleHealth([applied.members[1]!], "", 4000), [], "retired stays unhealthy whatever the checks say");
});
