// A handover run's report: outcomes counted, steps named by upstream URL, outcomes only when acting.
import assert from "node:assert/strict";
import { it } from "node:test";
import type { StepResult } from "../../src/handover/executor.js";
import { tally } from "../../src/handover/tally.js";

const group = { job: "j", instance: "a" };
const results: StepResult[] = [
  { step: { action: "copy", group, owner: 0, source: 1, from: [1, 2], reason: "owner lacks the group" }, outcome: "copied", deleted: 2 },
  { step: { action: "merge", group, owner: 0, source: 1, families: ["x"], from: [1], reason: "r" }, outcome: "merged", deleted: 1 },
  { step: { action: "delete", group, owner: 0, from: [3], reason: "r" }, outcome: "failed", deleted: 0, error: "DELETE answered 500" },
  { step: { action: "leave", group, owner: null, from: [1], reason: "no healthy owner" }, outcome: "left", deleted: 0 },
];
const standbySide = { standbys: [1], replicate: [1], standbyFrom: [0] };
const replicas: StepResult[] = [
  {
    step: { action: "copy", group, owner: 0, source: 1, promote: true, from: [], reason: "r", ...standbySide },
    outcome: "promoted",
    deleted: 1,
    replicated: 1,
  },
  {
    step: { action: "replicate", group, owner: 0, from: [], reason: "r", ...standbySide },
    outcome: "replicated",
    deleted: 0,
    replicated: 1,
  },
  {
    step: { action: "copy", group, owner: 0, source: 2, from: [2], reason: "r", ...standbySide },
    outcome: "copied",
    deleted: 1,
    replicated: 1,
  },
];
const urlOf = (slot: number) => (slot < 3 ? `http://pg-${slot}:9091` : undefined);

it("counts each outcome and the copies deleted, and names slots by URL (or 'slot N' when gone)", () => {
  const t = tally(results, false, urlOf);
  assert.deepEqual(
    { ...t, steps: t.steps.length },
    { copied: 1, promoted: 0, merged: 1, replicated: 0, deleted: 3, expired: 0, failed: 1, left: 1, steps: 4 },
  );
  assert.deepEqual(t.steps[0], {
    action: "copy",
    group,
    owner: "http://pg-0:9091",
    from: ["http://pg-1:9091", "http://pg-2:9091"],
    reason: "owner lacks the group",
    outcome: "copied",
  });
  assert.deepEqual(t.steps[2]?.from, ["slot 3"]);
  assert.equal(t.steps[2]?.error, "DELETE answered 500");
  assert.equal(t.steps[3]?.owner, null);
});

it("leaves outcomes out of a dry run's steps", () => {
  assert.ok(tally(results, true, urlOf).steps.every((s) => s.outcome === undefined));
});

it("counts promotions and standby copies written apart from copies, and names standby slots by URL", () => {
  const t = tally(replicas, false, urlOf);
  assert.deepEqual([t.copied, t.promoted, t.replicated, t.deleted], [1, 1, 3, 2]);
  assert.deepEqual([t.steps[0]?.replicate, t.steps[0]?.standby_from], [["http://pg-1:9091"], ["http://pg-0:9091"]]);
  assert.equal(t.steps[0]?.outcome, "promoted");
  assert.ok(!("replicate" in (tally(results, false, urlOf).steps[0] ?? {})), "a step with one copy per group reads as before");
});
