// A group's copies as the handover rebuilds and compares them (--replicas): the replica label in
// every metric's labels (the Pushgateway writes grouping labels into each metric), samples
// compared without what the receiving Pushgateway stamps, and which copy is at least as new.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { asCopy, atLeastAsNew, dataOf, pushAtLeastAsNew, sameData } from "../../src/handover/copies.js";
import { groupToText, type ApiGroup } from "../../src/pushgateway/exposition.js";

const primary = { job: "j", instance: "a" };
const standby = { ...primary, dyshard_replica: "1" };

/** A group as GET /api/v1/metrics shows it (Pushgateway 1.5.1's shape, test/unit/exposition.test.ts). */
function group(labels: Record<string, string>, pushTime: string, value = "3", stamp = "2026-11-25T19:49:42.378060367Z"): ApiGroup {
  const gauge = (v: string) => ({ time_stamp: stamp, type: "GAUGE", metrics: [{ labels, value: v }] });
  return {
    labels,
    last_push_successful: true,
    v: { time_stamp: stamp, type: "COUNTER", help: "a help", metrics: [{ labels: { ...labels, le: "x" }, value }] },
    push_time_seconds: gauge(pushTime),
    push_failure_time_seconds: gauge("0"),
  };
}

describe("asCopy", () => {
  it("takes the replica label off a standby copy, from its metrics too, and puts it on for a standby copy", () => {
    const promoted = asCopy(group(standby, "100"), false);
    assert.deepEqual(promoted.labels, primary);
    assert.equal(groupToText(promoted), '# HELP v a help\n# TYPE v counter\nv{instance="a",job="j",le="x"} 3\n');
    const copy = asCopy(group(primary, "100"), true);
    assert.deepEqual(copy.labels, standby);
    assert.match(groupToText(copy), /^v\{dyshard_replica="1",instance="a",job="j",le="x"\} 3$/m);
  });
});

describe("sameData", () => {
  it("ignores push times, family time stamps and the replica label; sees any other difference", () => {
    assert.ok(sameData(group(primary, "100"), group(standby, "200", "3", "2027-01-01T00:00:00Z")));
    assert.ok(!sameData(group(primary, "100"), group(standby, "100", "4")));
    const helpless = group(primary, "100");
    (helpless.v as { help?: string }).help = undefined;
    assert.ok(!sameData(group(primary, "100"), helpless));
    assert.equal(dataOf(group(primary, "1")), dataOf(group(primary, "1")), "deterministic");
  });
});

describe("pushAtLeastAsNew", () => {
  const same = () => true;
  const other = () => false;
  it("is true when pushed at the same time or later", () => {
    assert.ok(pushAtLeastAsNew({ time: 5, standby: false }, { time: 5, standby: false }, other));
    assert.ok(!pushAtLeastAsNew({ time: -Infinity, standby: false }, { time: 1, standby: true }, other));
  });
  it("between a primary and a standby copy, or two standby copies, the same samples count as the same push", () => {
    assert.ok(pushAtLeastAsNew({ time: 1, standby: false }, { time: 9, standby: true }, same));
    assert.ok(pushAtLeastAsNew({ time: 1, standby: true }, { time: 9, standby: false }, same));
    assert.ok(pushAtLeastAsNew({ time: 1, standby: true }, { time: 9, standby: true }, same));
    assert.ok(!pushAtLeastAsNew({ time: 1, standby: true }, { time: 9, standby: false }, other));
  });
  it("between two primaries, push times alone decide (as with one copy per group)", () => {
    assert.ok(!pushAtLeastAsNew({ time: 1, standby: false }, { time: 9, standby: false }, same));
  });
  it("atLeastAsNew reads push times and samples from the groups", () => {
    assert.ok(atLeastAsNew(group(primary, "1"), group(standby, "9")));
    assert.ok(!atLeastAsNew(group(primary, "1"), group(standby, "9", "4")));
    assert.ok(!atLeastAsNew(group(primary, "1"), group(primary, "9")));
  });
});
