// Moving groups between REAL Pushgateways 1.5.1: push rich groups to A, read them from A's
// GET /api/v1/metrics, PUT groupToText(group) to B at groupPath(group.labels), and B must then
// expose the same series, help and types, and hold the same groups, as A.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pushgateway, type PushgatewayGroup } from "../support/pushgateway.js";
import {
  groupPath,
  groupToText,
  pushTimeSeconds,
  type ApiGroup,
  type ApiHistogramMetric,
  type ApiMetricFamily,
} from "../../src/pushgateway/exposition.js";

const b64 = (s: string) => Buffer.from(s).toString("base64url");

// Every kind of family, help texts with escapes, label values with odd characters, values Go spells
// in odd ways, buckets whose bounds JavaScript reorders ("1", "10", "100" are integer-like keys),
// and one histogram pushed without its +Inf bucket.
const BODY = String.raw`# HELP moved_requests_total Requests \\ served,\nper "handler".
# TYPE moved_requests_total counter
moved_requests_total{handler="/api",code="200"} 1027
moved_requests_total{handler="q\"uote",code="back\\slash"} 1e+21
moved_requests_total{handler="new\nline",code="ünï € 🙂"} 3.5
moved_requests_total{handler="tab	and , = { }",code=""} 0
# HELP moved_temperature Current temperature.
# TYPE moved_temperature gauge
moved_temperature NaN
moved_temperature{room="a"} +Inf
moved_temperature{room="b"} -Inf
moved_temperature{room="c"} 1.5e-07
moved_temperature{room="d"} 123456789012345678901234567890
moved_temperature{room="e"} -0
moved_temperature{room="f"} -42.125
# TYPE moved_untyped untyped
moved_untyped{kind="x"} 7
# HELP moved_latency_seconds Latency (a summary)\\\n  second line.
# TYPE moved_latency_seconds summary
moved_latency_seconds{op="read",quantile="0.01"} 0.001
moved_latency_seconds{op="read",quantile="0.5"} 0.25
moved_latency_seconds{op="read",quantile="0.9"} 1.5
moved_latency_seconds{op="read",quantile="0.99"} NaN
moved_latency_seconds{op="read",quantile="1"} 12
moved_latency_seconds_sum{op="read"} 123.5
moved_latency_seconds_count{op="read"} 99
moved_latency_seconds_sum{op="write"} 0
moved_latency_seconds_count{op="write"} 0
# HELP moved_size_bytes Sizes.
# TYPE moved_size_bytes histogram
moved_size_bytes_bucket{le="1e-07"} 0
moved_size_bytes_bucket{le="0.5"} 1
moved_size_bytes_bucket{le="1"} 2
moved_size_bytes_bucket{le="10"} 5
moved_size_bytes_bucket{le="100"} 8
moved_size_bytes_bucket{le="1000000"} 9
moved_size_bytes_bucket{le="+Inf"} 10
moved_size_bytes_sum 1.0000000000000002e+06
moved_size_bytes_count 10
# TYPE moved_no_inf histogram
moved_no_inf_bucket{path="/x",le="2"} 1
moved_no_inf_bucket{path="/x",le="20"} 3
moved_no_inf_sum{path="/x"} 30
moved_no_inf_count{path="/x"} 4
`;

// Paths of the groups on A (each its own job, so none sits next to {job=x,instance=""}).
const GROUPS = [
  "/metrics/job/rich/instance/host-1:9100",
  "/metrics/job/only_job",
  "/metrics/job/blank/instance@base64/=", // {job=blank, instance=""}: a group distinct from {job=blank}
  `/metrics/job@base64/${b64("jöb/mixed")}/zone@base64/${b64('eu/"west"\\1')}/rack/r1/empty@base64/=/note@base64/${b64("new\nline 🙂")}`,
];

const SET_BY_PUSHGATEWAY = /^push_(failure_)?time_seconds[{ ]/;
const GATEWAY_OWN = /^# (HELP|TYPE) (go_|process_|pushgateway_|promhttp_)/;

const canonical = (labels: Record<string, string>) =>
  JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

async function put(pg: Pushgateway, path: string, body: string): Promise<void> {
  const res = await fetch(pg.url + path, { method: "PUT", body, headers: { "content-type": "text/plain; version=0.0.4" } });
  assert.equal(res.status, 200, `PUT ${path}: ${res.status} ${await res.text()}`);
}

/**
 * Pushed series in /metrics order, without the push-time gauges. Unsorted on purpose: the gatherer
 * orders series by their labels but keeps buckets in pushed order, so a misordered move shows.
 */
async function series(pg: Pushgateway): Promise<string[]> {
  return (await pg.pushedSeries()).filter((l) => !SET_BY_PUSHGATEWAY.test(l));
}

/** The # HELP and # TYPE lines of the pushed families. */
async function metadata(pg: Pushgateway): Promise<string[]> {
  const text = await (await fetch(`${pg.url}/metrics`)).text();
  return text.split("\n").filter((l) => l.startsWith("# ") && !GATEWAY_OWN.test(l) && !/ push_(failure_)?time_seconds /.test(l));
}

/** A group's families as a push can reproduce them: no timestamps, no push-time gauges, +Inf explicit. */
function families(group: PushgatewayGroup): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(group)) {
    if (name === "labels" || name === "last_push_successful" || SET_BY_PUSHGATEWAY.test(name + " ")) continue;
    const { time_stamp: _, ...family } = structuredClone(value) as ApiMetricFamily;
    if (family.type === "HISTOGRAM") {
      for (const m of family.metrics as ApiHistogramMetric[]) m.buckets["+Inf"] ??= m.count;
    }
    out[name] = family;
  }
  return out;
}

describe("moving a group with groupToText and groupPath between real Pushgateways", () => {
  let a: Pushgateway;
  let b: Pushgateway;
  let aGroups: PushgatewayGroup[];
  let movedAt: number;

  before(async () => {
    [a, b] = await Promise.all([Pushgateway.start(), Pushgateway.start()]);
    for (const path of GROUPS) await put(a, path, BODY);
    aGroups = await a.groups();
    movedAt = Date.now() / 1000;
    for (const group of aGroups) await put(b, groupPath(group.labels), groupToText(group as ApiGroup));
  });

  after(async () => {
    await Promise.all([a?.kill(), b?.kill()]);
  });

  it("A holds the groups the test meant, including the empty-valued and multi-label ones", () => {
    assert.deepEqual(
      aGroups.map((g) => canonical(g.labels)).sort(),
      [
        canonical({ job: "blank", instance: "" }),
        canonical({ job: "jöb/mixed", zone: 'eu/"west"\\1', rack: "r1", empty: "", note: "new\nline 🙂" }),
        canonical({ job: "only_job" }),
        canonical({ job: "rich", instance: "host-1:9100" }),
      ].sort(),
    );
  });

  it("B exposes exactly A's series on /metrics (push-time gauges aside)", async () => {
    const [fromA, fromB] = await Promise.all([series(a), series(b)]);
    assert.ok(fromA.length > 100, `expected many series, got ${fromA.length}`);
    assert.deepEqual(fromB, fromA);
  });

  it("B exposes the same # HELP and # TYPE lines as A", async () => {
    const [fromA, fromB] = await Promise.all([metadata(a), metadata(b)]);
    assert.ok(fromA.includes(String.raw`# HELP moved_requests_total Requests \\ served,\nper "handler".`), fromA.join("\n"));
    assert.deepEqual(fromB, fromA);
  });

  it("B's /api/v1/metrics holds the same groups, with the same labels and families", async () => {
    const bGroups = new Map((await b.groups()).map((g) => [canonical(g.labels), g]));
    assert.equal(bGroups.size, aGroups.length);
    for (const ga of aGroups) {
      const gb = bGroups.get(canonical(ga.labels));
      assert.ok(gb, `B lacks the group ${canonical(ga.labels)}; it has ${[...bGroups.keys()].join(" ")}`);
      assert.deepEqual(gb.labels, ga.labels);
      assert.equal(gb.last_push_successful, true);
      assert.deepEqual(families(gb), families(ga));
      // Moving the moved group again would write the very same text.
      assert.equal(groupToText(gb as ApiGroup), groupToText(ga as ApiGroup));
    }
  });

  it("B stamped its own push time on each moved group", async () => {
    for (const g of await b.groups()) {
      const t = pushTimeSeconds(g as ApiGroup);
      assert.ok(
        t !== undefined && t >= movedAt - 1 && t <= Date.now() / 1000 + 1,
        `${canonical(g.labels)}: push_time_seconds ${t}, moved at ${movedAt}`,
      );
    }
  });
});
