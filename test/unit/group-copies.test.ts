// The group lookup's verdict on each copy (src/ops/group-copies.ts) and the merged API's standby
// filter (src/ops/merge-groups.ts), on groups shaped as the Pushgateway's API shows them.
import assert from "node:assert/strict";
import { it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { groupCopies } from "../../src/ops/group-copies.js";
import { mergeGroups } from "../../src/ops/merge-groups.js";
import type { ApiGroup } from "../../src/pushgateway/exposition.js";

const A = "http://a:9091";
const B = "http://b:9091";
const C = "http://c:9091";
const pushed = (labels: Record<string, string>, at = 1_700_000_000): ApiGroup => ({
  labels,
  push_time_seconds: { time_stamp: "", type: "GAUGE", metrics: [{ labels, value: String(at) }] },
});
const group = { job: "j", labels: { instance: "i" } };
const verdicts = (answers: { upstream: string; value: ApiGroup[] }[], owner = A, standbys = [B]) =>
  groupCopies(group, answers, owner, standbys).map((c) => `${c.upstream} ${c.role} ${c.placed}`);

it("the primary on the owner and the standby on its slot are ok; other groups do not count", () => {
  const answers = [
    { upstream: A, value: [pushed({ job: "j", instance: "i" }), pushed({ job: "j", instance: "other" })] },
    { upstream: B, value: [pushed({ job: "j", instance: "i", dyshard_replica: "1" })] },
  ];
  assert.deepEqual(verdicts(answers), [`${A} primary ok`, `${B} standby ok`]);
  assert.equal(groupCopies(group, answers, A, [B])[0]!.push_time_seconds, 1_700_000_000);
});

it("a second primary elsewhere, or the twin beside the group, is a duplicate; a lone primary elsewhere is misplaced", () => {
  const twin = { job: "j", instance: "i", x: "" };
  assert.deepEqual(
    verdicts([
      { upstream: A, value: [pushed({ job: "j", instance: "i" })] },
      { upstream: C, value: [pushed(twin)] },
    ]),
    [`${A} primary ok`, `${C} primary duplicate`],
  );
  assert.deepEqual(verdicts([{ upstream: A, value: [pushed({ job: "j", instance: "i" }), pushed(twin)] }]), [
    `${A} primary ok`,
    `${A} primary duplicate`,
  ]);
  assert.deepEqual(verdicts([{ upstream: C, value: [pushed({ job: "j", instance: "i" })] }]), [`${C} primary misplaced`]);
});

it("a standby copy on the owner or off the standby slots is misplaced (with --replicas 1 every one is)", () => {
  const standby = pushed({ job: "j", instance: "i", dyshard_replica: "1" });
  assert.deepEqual(verdicts([{ upstream: A, value: [standby] }]), [`${A} standby misplaced`]);
  assert.deepEqual(verdicts([{ upstream: B, value: [standby] }], A, []), [`${B} standby misplaced`]);
});

it("the merged API leaves standby copies out and names each group's instance", () => {
  const merged = mergeGroups([{ upstream: A, value: [pushed({ job: "j" }), pushed({ job: "j", dyshard_replica: "1" })] }]);
  assert.deepEqual(
    merged.map((g) => [g.labels, g.dyshard_upstream]),
    [[{ job: "j" }, A]],
  );
});

it("/api/v1/status shows every setting by its flag's name, the Consul token only as set", () => {
  const config = loadConfig({ flags: { upstream: [A, B], consulToken: "s3cret", upstreamTimeout: "2s" } });
  assert.equal(config.settings.upstream, `${A},${B}`);
  assert.equal(config.settings["upstream-timeout"], "2000");
  assert.equal(config.settings["consul-token"], "<secret>");
  assert.ok(!JSON.stringify(config.settings).includes("s3cret"));
});
