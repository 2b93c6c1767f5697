// Pure unit tests of the push-path parser and the routing key: how Pushgateway 1.5.1 reads a push
// path (../shared/reference/pushgateway.md), and that every spelling of one group gets one key.
// test/integration/parity.test.ts checks the same rules against the real binary.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parsePushPath, routingKey, type GroupingKey, type ParsedPush } from "../../src/pushgateway/grouping-key.js";
import { route, type Route } from "../../src/router/route.js";

const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64url"); // unpadded, `-` and `_`
const b64padded = (s: string) => Buffer.from(s).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");

function group(target: string): GroupingKey {
  const p = parsePushPath(target);
  assert.equal(p.kind, "group", `${target} should parse to a group, got ${JSON.stringify(p)}`);
  return (p as Extract<ParsedPush, { kind: "group" }>).group;
}

function rejected(target: string): Extract<ParsedPush, { kind: "reject" }> {
  const p = parsePushPath(target);
  assert.equal(p.kind, "reject", `${target} should be rejected, got ${JSON.stringify(p)}`);
  return p as Extract<ParsedPush, { kind: "reject" }>;
}

function answer(method: string, target: string): Extract<Route, { kind: "answer" }> {
  const r = route(method, target, "group");
  assert.equal(r.kind, "answer", `${method} ${target} should be answered by dyshard, got ${JSON.stringify(r)}`);
  return r as Extract<Route, { kind: "answer" }>;
}

function key(target: string, shardBy: "group" | "job" = "group"): string {
  const r = route("PUT", target, shardBy);
  assert.equal(r.kind, "push", `${target} should be a push, got ${JSON.stringify(r)}`);
  return (r as Extract<Route, { kind: "push" }>).key;
}

/** A 400 as the push handler writes it (http.Error: text/plain, trailing newline). */
function assert400(target: string, message: string): void {
  const a = answer("PUT", target);
  assert.equal(a.status, 400, `${target}: ${a.body}`);
  assert.equal(a.body, message + "\n", target);
  assert.equal(a.headers["content-type"], "text/plain; charset=utf-8");
}

function assertRedirect(method: string, target: string, status: number, location: string): void {
  const a = answer(method, target);
  assert.equal(a.status, status, `${method} ${target}`);
  assert.equal(a.headers.location, location, `${method} ${target}`);
}

describe("parsePushPath: percent-decoding happens before routing", () => {
  it("decodes %20 in the job and in label values", () => {
    assert.deepEqual(group("/metrics/job/x%20y"), { job: "x y", labels: {} });
    assert.deepEqual(group("/metrics/job/j/a/x%20y"), { job: "j", labels: { a: "x y" } });
  });

  it("turns %2F into a path separator", () => {
    assert400("/metrics/job/a%2Fb", 'odd number of components in label string "/b"');
    assert.deepEqual(group("/metrics/job/j%2Fa%2F1"), { job: "j", labels: { a: "1" } });
  });

  it("keeps a decoded %3F in the job, while a real ? starts the query", () => {
    assert.deepEqual(group("/metrics/job/a%3Fb"), { job: "a?b", labels: {} });
    assert.deepEqual(group("/metrics/job/a?b=1"), { job: "a", labels: {} });
    assert.deepEqual(group("/metrics/job/j/x/%3F?y=%FF"), { job: "j", labels: { x: "?" } }, "the query is not decoded into the path");
  });

  it("decodes multi-byte UTF-8 escapes, %25 and %0A, and keeps +", () => {
    assert.deepEqual(group("/metrics/job/j/a/%E2%9C%93/b/%25/c/x%0Ay/d/+"), { job: "j", labels: { a: "✓", b: "%", c: "x\ny", d: "+" } });
  });

  it("decodes %40, so job%40base64 is the job@base64 route and a%40base64 a base64 label", () => {
    assert.deepEqual(group(`/metrics/job%40base64/${b64("jj")}`), { job: "jj", labels: {} });
    assert.deepEqual(group("/metrics/job/j/a%40base64/MQ"), { job: "j", labels: { a: "1" } });
  });

  it("answers a malformed escape as net/http does: 400 before the method is looked at", () => {
    for (const target of ["/metrics/job/j/a/%ZZ", "/metrics/job/j%2", "/metrics/job/j%"]) {
      const p = rejected(target);
      assert.equal(p.status, 400);
      assert.equal(p.early, true);
      for (const method of ["PUT", "GET"]) {
        const a = answer(method, target);
        assert.equal(a.status, 400, `${method} ${target}`);
        assert.equal(a.body, "400 Bad Request", "net/http's own answer has no trailing newline");
      }
    }
  });

  it("leaves paths outside /metrics/job/ alone", () => {
    for (const target of ["/metrics", "/metrics/job", "/metrics/jobs/x", "/api/v1/metrics", "/-/healthy", "/metrics/job%2Fx"]) {
      assert.deepEqual(parsePushPath(target), { kind: "other" }, target);
    }
  });
});

describe("parsePushPath: job@base64", () => {
  it("decodes base64url with and without padding", () => {
    assert.equal(b64padded("job-1"), "am9iLTE=");
    assert.deepEqual(group(`/metrics/job@base64/${b64("job-1")}`), { job: "job-1", labels: {} });
    assert.deepEqual(group("/metrics/job@base64/am9iLTE="), { job: "job-1", labels: {} });
    assert.deepEqual(group("/metrics/job@base64/am9iLTE=%3D%3D"), { job: "job-1", labels: {} }, "extra (escaped) padding is trimmed too");
  });

  it("uses the URL-safe alphabet and can carry a / in the job name", () => {
    assert.equal(b64("a?>/b"), "YT8-L2I");
    assert.deepEqual(group("/metrics/job@base64/YT8-L2I/x/1"), { job: "a?>/b", labels: { x: "1" } });
    assert.equal(b64("???"), "Pz8_");
    assert.deepEqual(group("/metrics/job@base64/Pz8_"), { job: "???", labels: {} });
  });

  it("answers 400 `job name is required` for `=` (empty)", () => {
    assert400("/metrics/job@base64/=", "job name is required");
    assert400("/metrics/job@base64/===", "job name is required");
    assert400("/metrics/job@base64/=/a/1", "job name is required");
    assert400("/metrics/job@base64/=/", "job name is required");
  });

  it("parses the label part before it checks for an empty job (handler/push.go order)", () => {
    assert400("/metrics/job@base64/=/a-b/1", 'improper label name "a-b"');
    assert400("/metrics/job@base64/=/a/1/b", 'odd number of components in label string "/a/1/b"');
    assert400("/metrics/job@base64/=/a@base64/+", 'invalid base64 encoding for label a="+": illegal base64 data at input byte 0');
  });

  it("answers bad job base64 with Go's text, quoting what decoded before the bad quantum", () => {
    assert400("/metrics/job@base64/fz4+", 'invalid base64 encoding in job name "": illegal base64 data at input byte 3');
    assert400("/metrics/job@base64/QUJD+A", 'invalid base64 encoding in job name "ABC": illegal base64 data at input byte 4');
    assert400("/metrics/job@base64/QQ=x", 'invalid base64 encoding in job name "": illegal base64 data at input byte 2');
    assert400("/metrics/job@base64/a", 'invalid base64 encoding in job name "": illegal base64 data at input byte 0');
    assert400("/metrics/job@base64/QUJD_-_-+", 'invalid base64 encoding in job name "ABC\\xff\\xef\\xfe": illegal base64 data at input byte 8');
    // The bad job is rejected before the label part is looked at.
    assert400("/metrics/job@base64/fz4+/a-b/1", 'invalid base64 encoding in job name "": illegal base64 data at input byte 3');
  });

  it("answers 404 for an empty job@base64 segment", () => {
    const a = answer("PUT", "/metrics/job@base64/");
    assert.equal(a.status, 404);
    assert.equal(a.body, "404 page not found\n");
  });
});

describe("parsePushPath: <label>@base64", () => {
  it("decodes values with and without padding", () => {
    assert.deepEqual(group("/metrics/job/j/a@base64/MQ"), { job: "j", labels: { a: "1" } });
    assert.deepEqual(group("/metrics/job/j/a@base64/MQ=="), { job: "j", labels: { a: "1" } });
    assert.deepEqual(group("/metrics/job/j/a@base64/QUJD%3D%3D"), { job: "j", labels: { a: "ABC" } });
    assert.deepEqual(group(`/metrics/job/j/a@base64/${b64("x/y z")}`), { job: "j", labels: { a: "x/y z" } });
  });

  it("reads `=` or an empty value as the empty string", () => {
    assert.deepEqual(group("/metrics/job/j/a@base64/="), { job: "j", labels: { a: "" } });
    assert.deepEqual(group("/metrics/job/j/a@base64/==="), { job: "j", labels: { a: "" } });
    assert.deepEqual(group("/metrics/job/j/a@base64/"), { job: "j", labels: { a: "" } });
    assert.deepEqual(group("/metrics/job/j/a@base64/=/b/1"), { job: "j", labels: { a: "", b: "1" } });
  });

  it("skips CR/LF inside base64, as Go does", () => {
    assert.deepEqual(group("/metrics/job/j/a@base64/%0AM%0DQ"), { job: "j", labels: { a: "1" } });
  });

  it("answers + (standard alphabet) with Go's exact error text", () => {
    assert400("/metrics/job/j/a@base64/+A", 'invalid base64 encoding for label a="+A": illegal base64 data at input byte 0');
    assert400("/metrics/job/j/a@base64/QUJD+A", 'invalid base64 encoding for label a="QUJD+A": illegal base64 data at input byte 4');
    assert400("/metrics/job/j/a@base64/a%20b", 'invalid base64 encoding for label a="a b": illegal base64 data at input byte 1');
    assert400("/metrics/job/j/a@base64/Q", 'invalid base64 encoding for label a="Q": illegal base64 data at input byte 0');
    assert400("/metrics/job/j/a@base64/QQ=x", 'invalid base64 encoding for label a="QQ=x": illegal base64 data at input byte 2');
  });

  it("never sees a / (standard alphabet): literal or %2F, it splits the path", () => {
    assert400("/metrics/job/j/a@base64/QU%2FB", 'odd number of components in label string "/a@base64/QU/B"');
    assert400("/metrics/job/j/a@base64/QU/B", 'odd number of components in label string "/a@base64/QU/B"');
    assert.deepEqual(group("/metrics/job/j/a@base64/QU/B/c"), { job: "j", labels: { a: "A", B: "c" } });
  });

  it("applies to a label named job too (then overwritten by the URL job)", () => {
    assert400("/metrics/job/j/job@base64/+", 'invalid base64 encoding for label job="+": illegal base64 data at input byte 0');
    assert.deepEqual(group(`/metrics/job/j/job@base64/${b64("other")}`), { job: "j", labels: {} });
  });
});

describe("parsePushPath: the label part", () => {
  it("checks label names (after trimming @base64)", () => {
    assert400("/metrics/job/j/__a/1", 'improper label name "__a"');
    assert400("/metrics/job/j/__a@base64/MQ", 'improper label name "__a"');
    assert400("/metrics/job/j/1a/1", 'improper label name "1a"');
    assert400("/metrics/job/j/a-b/1", 'improper label name "a-b"');
    assert400("/metrics/job/j/a.b/1", 'improper label name "a.b"');
    assert400("/metrics/job/j/%C3%A4/1", 'improper label name "ä"');
    assert400("/metrics/job/j/@base64/MQ", 'improper label name ""');
    assert400("/metrics/job/j/a@base64@base64/MQ", 'improper label name "a@base64"');
    assert400("/metrics/job/j/a/1/b%20c/2", 'improper label name "b c"');
    assert.deepEqual(group("/metrics/job/j/_a/1/a1_B/2/_/3"), { job: "j", labels: { _a: "1", a1_B: "2", _: "3" } });
  });

  it("never reaches an empty plain label name: // is cleaned (301) first", () => {
    assertRedirect("PUT", "/metrics/job/j//1", 301, "/metrics/job/j/1");
  });

  it("answers an odd component count with the raw label string quoted", () => {
    assert400("/metrics/job/j/a", 'odd number of components in label string "/a"');
    assert400("/metrics/job/j/a/1/b", 'odd number of components in label string "/a/1/b"');
    assert400("/metrics/job/j/a/1/", 'odd number of components in label string "/a/1/"');
    assert400("/metrics/job/j/a/1/b/2/", 'odd number of components in label string "/a/1/b/2/"');
    assert400("/metrics/job/j/a/%22%5C%0A/b", 'odd number of components in label string "/a/\\"\\\\\\n/b"');
  });
});
