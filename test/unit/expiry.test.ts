// Group expiry, pure: a job's TTL (its own, "*", the default, 0 for never), and the plan's expire
// steps: every copy of a group whose newest push is older than its TTL, only once its owner was read.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { expiryPolicy, span } from "../../src/handover/expiry.js";
import { planHandover, type GroupCopy } from "../../src/handover/plan.js";

const NOW = 1_000_000;
const copy = (slot: number, job: string, pushTime: number | undefined, standby = false): GroupCopy => ({
  slot,
  labels: { job, i: "1", ...(standby ? { dyshard_replica: "1" } : {}) },
  pushTime,
  families: ["m"],
});
const ttl = expiryPolicy(3600_000, { backup: 48 * 3600_000, keep: 0 });
const plan = (copies: GroupCopy[], inventoried = [0, 1, 2]) =>
  planHandover({ copies, ownersOf: () => [0, 1], inventoried: new Set(inventoried), expiry: { nowS: NOW, ttlS: ttl! } });

describe("expiryPolicy", () => {
  it("takes a job's own TTL, then '*', then the default; 0 never expires", () => {
    const byJob = expiryPolicy(60_000, { backup: 7_200_000, "*": 600_000, keep: 0 });
    assert.equal(byJob?.("backup"), 7200);
    assert.equal(byJob?.("other"), 600);
    assert.equal(byJob?.("keep"), undefined);
    assert.equal(expiryPolicy(60_000, {})?.("any"), 60);
    assert.equal(expiryPolicy(0, { backup: 1000 })?.("other"), undefined);
  });

  it("is off when nothing expires", () => {
    assert.equal(expiryPolicy(0, {}), undefined);
    assert.equal(expiryPolicy(0, { keep: 0 }), undefined);
    assert.equal(expiryPolicy(60_000, { "*": 0 }), undefined);
  });

  it("reads the settings: a mapping in the file, JOB=D from flags, days", () => {
    const config = loadConfig({ flags: { upstream: ["http://a:1"], groupTtl: "6h", groupTtlByJob: ["backup=2d", "*=30m", "keep=0"] } });
    assert.deepEqual(config.groupTtl, { defaultMs: 6 * 3600_000, byJobMs: { backup: 2 * 86_400_000, "*": 1_800_000, keep: 0 } });
    assert.throws(() => loadConfig({ flags: { groupTtlByJob: ["backup"] } }), /JOB=DURATION/);
    assert.throws(() => loadConfig({ flags: { groupTtlByJob: ["backup=soon"] } }), /job "backup": expected a duration/);
    assert.equal(loadConfig({ flags: {} }).groupTtl.defaultMs, 0);
  });
});

describe("expire steps", () => {
  it("expire every copy, primaries and standby copies wherever they are, when the newest is older than the TTL", () => {
    const p = plan([copy(0, "j", NOW - 4000), copy(2, "j", NOW - 3700), copy(1, "j", NOW - 3900, true)]);
    assert.equal(p.expired, 1);
    assert.equal(p.misplaced, 0);
    const [step] = p.steps;
    assert.equal(step?.action, "expire");
    assert.deepEqual(step?.action === "expire" && [step.from, step.standbyFrom, step.cutoff], [[0, 2], [1], NOW - 3600]);
    assert.match(step?.reason ?? "", /no push for 1h1m \(TTL 1h\)/);
  });

  it("keep a group with any copy pushed within its TTL, and plan it as usual", () => {
    const p = plan([copy(0, "j", NOW - 4000), copy(2, "j", NOW - 10)]);
    assert.equal(p.expired, 0);
    assert.equal(p.steps[0]?.action, "copy");
  });

  it("follow the job's TTL: backup lives 48h, keep forever", () => {
    assert.equal(plan([copy(0, "backup", NOW - 40 * 3600)]).expired, 0);
    assert.equal(plan([copy(0, "backup", NOW - 49 * 3600)]).expired, 1);
    assert.equal(plan([copy(0, "keep", NOW - 400 * 86_400)]).expired, 0);
  });

  it("wait until the owner was read: it may hold a newer push", () => {
    const p = plan([copy(2, "j", NOW - 4000)], [1, 2]);
    assert.equal(p.expired, 0);
    assert.equal(p.steps[0]?.action, "leave");
  });

  it("never expire a group that was never pushed successfully (no push time)", () => {
    assert.equal(plan([copy(0, "j", undefined)]).expired, 0);
  });
});

it("span writes a duration as its two largest non-zero units", () => {
  assert.deepEqual(
    [span(0), span(59), span(90), span(3600), span(26 * 3600 + 120), span(7 * 86_400 + 5)],
    ["0s", "59s", "1m30s", "1h", "1d2h", "7d5s"],
  );
});
