// Pure unit tests of rebuilding a group's text exposition from GET /api/v1/metrics JSON, and of the
// push path that addresses exactly that group. The fixtures copy the JSON Pushgateway 1.5.1 gives;
// test/integration/exposition.test.ts moves real groups between real Pushgateways.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { groupPath, groupToText, pushTimeSeconds, type ApiGroup, type ApiMetricFamily } from "../../src/pushgateway/exposition.js";
import { parsePushPath, type GroupingKey, type ParsedPush } from "../../src/pushgateway/grouping-key.js";

const TS = "2026-11-25T19:49:42.378060367Z";
const pushTime = (value: string, labels: Record<string, string>): ApiMetricFamily => ({
  time_stamp: TS,
  type: "GAUGE",
  help: "Last Unix time when changing this group in the Pushgateway succeeded.",
  metrics: [{ labels, value }],
});

function group(labels: Record<string, string>, families: Record<string, ApiMetricFamily>): ApiGroup {
  return { labels, last_push_successful: true, ...families };
}

function parsedLabels(path: string): Record<string, string> {
  const p: ParsedPush = parsePushPath(path);
  assert.equal(p.kind, "group", `${path}: ${JSON.stringify(p)}`);
  const g = (p as { group: GroupingKey }).group;
  return { job: g.job, ...g.labels };
}

describe("groupToText", () => {
  it("writes counters, gauges and untyped samples with values copied verbatim, families sorted by name", () => {
    const l = { job: "j", instance: "" };
    const text = groupToText(
      group(
        { job: "j" },
        {
          u: { time_stamp: TS, type: "UNTYPED", metrics: [{ labels: l, value: "3" }] },
          g: {
            time_stamp: TS,
            type: "GAUGE",
            help: "gauge help",
            metrics: [
              { labels: { ...l, x: "1" }, value: "+Inf" },
              { labels: { ...l, x: "2" }, value: "-Inf" },
              { labels: { ...l, x: "3" }, value: "NaN" },
              { labels: { ...l, x: "4" }, value: "1.5e-07" },
              { labels: { ...l, x: "5" }, value: "-0" },
            ],
          },
          c_total: { time_stamp: TS, type: "COUNTER", metrics: [{ labels: l, value: "1.2345678901234568e+29" }] },
        },
      ),
    );
    assert.equal(
      text,
      [
        "# TYPE c_total counter",
        'c_total{instance="",job="j"} 1.2345678901234568e+29',
        "# HELP g gauge help",
        "# TYPE g gauge",
        'g{instance="",job="j",x="1"} +Inf',
        'g{instance="",job="j",x="2"} -Inf',
        'g{instance="",job="j",x="3"} NaN',
        'g{instance="",job="j",x="4"} 1.5e-07',
        'g{instance="",job="j",x="5"} -0',
        "# TYPE u untyped",
        'u{instance="",job="j"} 3',
        "",
      ].join("\n"),
    );
  });

  it("escapes backslash and newline in help, and backslash, quote and newline in label values", () => {
    const text = groupToText(
      group(
        { job: "j" },
        {
          c: {
            time_stamp: TS,
            type: "COUNTER",
            help: 'back\\slash "quoted" new\nline',
            metrics: [{ labels: { job: "j", a: 'q"uote', b: "back\\slash", c: "new\nline", d: "ünï €\t" }, value: "1" }],
          },
        },
      ),
    );
    assert.equal(
      text,
      '# HELP c back\\\\slash "quoted" new\\nline\n# TYPE c counter\nc{a="q\\"uote",b="back\\\\slash",c="new\\nline",d="ünï €\t",job="j"} 1\n',
    );
  });

  it("writes summary quantiles in numeric order, then _sum and _count", () => {
    const text = groupToText(
      group(
        { job: "j" },
        {
          s: {
            time_stamp: TS,
            type: "SUMMARY",
            help: "a summary",
            metrics: [
              { labels: { job: "j" }, quantiles: { "0.99": "NaN", "0.5": "1", "0.9": "2.5", "1": "9" }, count: "4", sum: "10" },
              { labels: { job: "j", k: "none" }, quantiles: {}, count: "0", sum: "0" },
            ],
          },
        },
      ),
    );
    assert.equal(
      text,
      [
        "# HELP s a summary",
        "# TYPE s summary",
        's{job="j",quantile="0.5"} 1',
        's{job="j",quantile="0.9"} 2.5',
        's{job="j",quantile="0.99"} NaN',
        's{job="j",quantile="1"} 9',
        's_sum{job="j"} 10',
        's_count{job="j"} 4',
        's_sum{job="j",k="none"} 0',
        's_count{job="j",k="none"} 0',
        "",
      ].join("\n"),
    );
  });

  it("writes histogram buckets in numeric order (not the JSON's string order), keeping Go's spelling of the bounds", () => {
    const text = groupToText(
      group(
        { job: "j" },
        {
          h: {
            time_stamp: TS,
            type: "HISTOGRAM",
            metrics: [
              {
                labels: { job: "j" },
                buckets: { "+Inf": "6", "-5": "0", "10": "4", "1e+06": "5", "1e-07": "1", "2": "3" },
                count: "6",
                sum: "1e+23",
              },
            ],
          },
        },
      ),
    );
    assert.equal(
      text,
      [
        "# TYPE h histogram",
        'h_bucket{job="j",le="-5"} 0',
        'h_bucket{job="j",le="1e-07"} 1',
        'h_bucket{job="j",le="2"} 3',
        'h_bucket{job="j",le="10"} 4',
        'h_bucket{job="j",le="1e+06"} 5',
        'h_bucket{job="j",le="+Inf"} 6',
        'h_sum{job="j"} 1e+23',
        'h_count{job="j"} 6',
        "",
      ].join("\n"),
    );
  });

  it("adds the +Inf bucket, equal to the count, when the JSON lacks it (also for a histogram without buckets)", () => {
    const text = groupToText(
      group(
        { job: "j" },
        {
          h: {
            time_stamp: TS,
            type: "HISTOGRAM",
            metrics: [
              { labels: { job: "j", k: "a" }, buckets: { "1": "1" }, count: "5", sum: "1" },
              { labels: { job: "j", k: "b" }, buckets: {}, count: "2", sum: "0.5" },
            ],
          },
        },
      ),
    );
    assert.equal(
      text,
      [
        "# TYPE h histogram",
        'h_bucket{job="j",k="a",le="1"} 1',
        'h_bucket{job="j",k="a",le="+Inf"} 5',
        'h_sum{job="j",k="a"} 1',
        'h_count{job="j",k="a"} 5',
        'h_bucket{job="j",k="b",le="+Inf"} 2',
        'h_sum{job="j",k="b"} 0.5',
        'h_count{job="j",k="b"} 2',
        "",
      ].join("\n"),
    );
  });

  it("leaves out push_time_seconds and push_failure_time_seconds, and the group's own keys", () => {
    const l = { job: "j" };
    const g = group(l, {
      push_time_seconds: pushTime("1.7956361823780603e+09", l),
      push_failure_time_seconds: { ...pushTime("0", l), help: "Last Unix time when changing this group in the Pushgateway failed." },
      x: { time_stamp: TS, type: "GAUGE", metrics: [{ labels: l, value: "1" }] },
    });
    assert.equal(groupToText(g), '# TYPE x gauge\nx{job="j"} 1\n');
    assert.equal(groupToText({ labels: l, last_push_successful: true }), "");
  });

  it("is deterministic: the same group in any key order gives the same text", () => {
    const l = { job: "j", b: "2", a: "1" };
    const families: [string, ApiMetricFamily][] = ["zz", "a_b", "m", "A"].map((n) => [
      n,
      { time_stamp: TS, type: "GAUGE", metrics: [{ labels: l, value: "1" }] },
    ]);
    const one = groupToText({ labels: l, ...Object.fromEntries(families) });
    const two = groupToText({ ...Object.fromEntries([...families].reverse()), labels: l });
    assert.equal(one, two);
    assert.deepEqual(
      one.split("\n").filter((x) => x.startsWith("# TYPE")),
      ["# TYPE A gauge", "# TYPE a_b gauge", "# TYPE m gauge", "# TYPE zz gauge"],
    );
    assert.match(one, /^A\{a="1",b="2",job="j"\} 1$/m);
  });

  it("refuses a family type that text format 0.0.4 cannot carry rather than dropping it", () => {
    const g = { labels: { job: "j" }, gh: { time_stamp: TS, type: "GAUGE_HISTOGRAM", metrics: [] } } as ApiGroup;
    assert.throws(() => groupToText(g), /gh has type GAUGE_HISTOGRAM/);
  });
});

describe("pushTimeSeconds", () => {
  it("reads the push_time_seconds gauge as a number", () => {
    const l = { job: "j" };
    assert.equal(pushTimeSeconds(group(l, { push_time_seconds: pushTime("1.7956361823780603e+09", l) })), 1795636182.3780603);
    assert.equal(pushTimeSeconds(group(l, { push_time_seconds: pushTime("0", l) })), 0);
  });

  it("is undefined when the group has no push_time_seconds", () => {
    assert.equal(pushTimeSeconds({ labels: { job: "j" } }), undefined);
    assert.equal(pushTimeSeconds(group({ job: "j" }, { push_time_seconds: { time_stamp: TS, type: "GAUGE", metrics: [] } })), undefined);
  });
});

describe("groupPath", () => {
  it("writes job first, then every other label sorted by name, all base64url without padding", () => {
    assert.equal(groupPath({ zone: "eu", job: "j", a: "1" }), "/metrics/job@base64/ag/a@base64/MQ/zone@base64/ZXU");
    assert.equal(groupPath({ job: "jo" }), "/metrics/job@base64/am8");
  });

  it('keeps an empty value as `=`, so {job=j,instance=""} is not addressed as {job=j}', () => {
    assert.equal(groupPath({ job: "j", instance: "" }), "/metrics/job@base64/ag/instance@base64/=");
    assert.notEqual(groupPath({ job: "j", instance: "" }), groupPath({ job: "j" }));
  });

  it("uses the URL-safe alphabet (`-`, `_`), never `+`, `/` or padding", () => {
    // "?>?~~~" is `Pz4/fn5+` in standard base64; "a" would be padded `YQ==`.
    assert.equal(groupPath({ job: "a", v: "?>?~~~" }), "/metrics/job@base64/YQ/v@base64/Pz4_fn5-");
  });

  it("refuses a group without a job", () => {
    assert.throws(() => groupPath({ instance: "x" }), /without a job/);
    assert.throws(() => groupPath({ job: "" }), /without a job/);
  });

  for (const labels of <Record<string, string>[]>[
    { job: "j" },
    { job: "j", instance: "" },
    { job: "j", a: "", b: "", c: "x" },
    { job: "jöb/with/slashes", instance: "h:9100/x?y#z" },
    { job: "%2F%zz", path: "a%20b", dots: "..", dot: ".", slash: "/" },
    { job: 'q"uote\\back', nl: "new\nline", tab: "\t", emoji: "🙂 ünï €", pad1: "a", pad2: "ab", pad3: "abc" },
    { job: "@base64", instance: "=", x: "==" },
  ]) {
    it(`parses back to the same labels: ${JSON.stringify(labels)}`, () => {
      assert.deepEqual(parsedLabels(groupPath(labels)), labels);
    });
  }
});
