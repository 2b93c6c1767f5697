// Pure unit tests of the push-path parser and the routing key: how Pushgateway 1.5.1 reads a push
// path (docs/facts/pushgateway.md), and that every spelling of one group gets one key.
// test/integration/parity.test.ts checks the same rules against the real binary.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  parseCommon,
  parseExactly,
  parsePushPath,
  routingKey,
  type GroupingKey,
  type ParsedPush,
} from "../../src/pushgateway/grouping-key.js";
import { route, type Route } from "../../src/routing/route.js";

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

  it("decodes %2F in the static part too: /metrics/job%2Fx is a push of job x", () => {
    assert.deepEqual(group("/metrics/job%2Fx"), { job: "x", labels: {} });
    assert.deepEqual(group("/metrics%2Fjob%2Fx%2Fa%2F1"), { job: "x", labels: { a: "1" } });
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
    for (const target of ["/metrics", "/metrics/job", "/metrics/jobs/x", "/api/v1/metrics", "/-/healthy"]) {
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
    assert400(
      "/metrics/job@base64/QUJD_-_-+",
      'invalid base64 encoding in job name "ABC\\xff\\xef\\xfe": illegal base64 data at input byte 8',
    );
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

describe("parsePushPath: duplicates, the job label, trailing slashes", () => {
  it("lets the last of duplicate names win, whatever the spelling", () => {
    assert.deepEqual(group("/metrics/job/j/a/1/a/2"), { job: "j", labels: { a: "2" } });
    assert.deepEqual(group("/metrics/job/j/a/1/a@base64/Mg"), { job: "j", labels: { a: "2" } });
    assert.deepEqual(group("/metrics/job/j/a@base64/Mg/a/3"), { job: "j", labels: { a: "3" } });
    assert.deepEqual(group("/metrics/job/j/a/%FF/a/1"), { job: "j", labels: { a: "1" } }, "an overwritten non-UTF-8 value is harmless");
  });

  it("overwrites a job label in the label part with the URL job", () => {
    assert.deepEqual(group("/metrics/job/j/job/other"), { job: "j", labels: {} });
    assert.deepEqual(group("/metrics/job/j/job/other/a/1"), { job: "j", labels: { a: "1" } });
    assert.deepEqual(group(`/metrics/job@base64/${b64("j")}/job/other`), { job: "j", labels: {} });
    assert.deepEqual(group("/metrics/job/j/job/%FF"), { job: "j", labels: {} });
  });

  it("reads a trailing slash after the job as no labels, and after a name as an empty value", () => {
    assert.deepEqual(group("/metrics/job/j1/"), { job: "j1", labels: {} });
    assert.deepEqual(group(`/metrics/job@base64/${b64("j1")}/`), { job: "j1", labels: {} });
    assert.deepEqual(group("/metrics/job/j/instance/"), { job: "j", labels: { instance: "" } });
    assert.deepEqual(group("/metrics/job/j/a/1/instance/"), { job: "j", labels: { a: "1", instance: "" } });
  });
});

describe("route: redirects and methods", () => {
  it("answers //, /./ and /../ with a 301 to the cleaned path, for every method", () => {
    for (const method of ["PUT", "POST", "DELETE", "GET"]) {
      assertRedirect(method, "/metrics/job//j", 301, "/metrics/job/j");
      assertRedirect(method, "/metrics/job/./j", 301, "/metrics/job/j");
      assertRedirect(method, "/metrics/job/x/../j", 301, "/metrics/job/j");
    }
    assertRedirect("PUT", "///metrics/job/j", 301, "/metrics/job/j");
    assertRedirect("PUT", "/metrics//job/j/a/1", 301, "/metrics/job/j/a/1");
    assertRedirect("PUT", "/metrics/job/j/a/1/.", 301, "/metrics/job/j/a/1");
    assertRedirect("PUT", "/metrics/job/j/a/./", 301, "/metrics/job/j/a/");
    assertRedirect("PUT", "/metrics/job/j/x/%2E%2E", 301, "/metrics/job/j");
    assertRedirect("PUT", "/metrics/job/a%2F%2Fb", 301, "/metrics/job/a/b");
  });

  it("keeps the query and re-escapes the cleaned path in the 301 Location", () => {
    assertRedirect("PUT", "/metrics/job//j?x=1&y=%FF", 301, "/metrics/job/j?x=1&y=%FF");
    assertRedirect("PUT", "/metrics/job//x%20y", 301, "/metrics/job/x%20y");
    assertRedirect("PUT", "/metrics/job//a!b(c)*'", 301, "/metrics/job/a%21b%28c%29%2A%27");
    assertRedirect("PUT", "/metrics/job//a%3Fb/l/%E2%9C%93", 301, "/metrics/job/a%3Fb/l/%E2%9C%93");
    assertRedirect("PUT", "/metrics/job//a$&+,:;=@b", 301, "/metrics/job/a$&+,:;=@b");
  });

  it("answers /metrics/job/ with a 307 to /metrics/job", () => {
    assertRedirect("PUT", "/metrics/job/", 307, "/metrics/job");
    assertRedirect("POST", "/metrics/job/?x=1", 307, "/metrics/job?x=1");
  });

  it("answers a wrongly cased static part with a 307 to the fixed case (job and labels untouched)", () => {
    assertRedirect("PUT", "/Metrics/job/J", 307, "/metrics/job/J");
    assertRedirect("DELETE", "/METRICS/JOB@BASE64/ag", 307, "/metrics/job@base64/ag");
    assertRedirect("PUT", "/metrics/Job/a%20b/X/1", 307, "/metrics/job/a%20b/X/1");
  });

  it("answers GET on a push path with 405 and Allow, OPTIONS with 200 and Allow", () => {
    for (const target of ["/metrics/job/j", "/metrics/job/j/a/1", "/metrics/job@base64/=", "/metrics/job/j/a-b/1"]) {
      const a = answer("GET", target);
      assert.equal(a.status, 405, target);
      assert.equal(a.body, "Method Not Allowed\n");
      assert.equal(a.headers.allow, "DELETE, OPTIONS, POST, PUT");
      const o = answer("OPTIONS", target);
      assert.equal(o.status, 200);
      assert.equal(o.headers.allow, "DELETE, OPTIONS, POST, PUT");
    }
    assert.equal(answer("PATCH", "/metrics/job/j").status, 405);
  });

  it("answers other methods 404 where no push route matches the path as spelled", () => {
    for (const target of ["/Metrics/job/j", "/metrics/job/", "/metrics/job@base64/"]) {
      for (const method of ["GET", "OPTIONS", "HEAD", "PATCH"]) {
        const a = answer(method, target);
        assert.equal(a.status, 404, `${method} ${target}`);
        assert.equal(a.body, "404 page not found\n");
      }
    }
  });

  it("routes PUT, POST and DELETE of a group alike", () => {
    const keys = ["PUT", "POST", "DELETE"].map((m) => {
      const r = route(m, "/metrics/job/j/a/1", "group");
      assert.equal(r.kind, "push");
      return (r as Extract<Route, { kind: "push" }>).key;
    });
    assert.equal(new Set(keys).size, 1);
  });
});

describe("parsePushPath: values that are not UTF-8 after decoding", () => {
  const cases: Array<[string, string]> = [
    ["/metrics/job/j/b@base64/_-_-", 'b="\\xff\\xef\\xfe"'],
    ["/metrics/job/j/a/%FF", 'a="\\xff"'],
    ["/metrics/job/j/a/x%C3", 'a="x\\xc3"'],
    ["/metrics/job/j/a/%ED%A0%80", 'a="\\xed\\xa0\\x80"'],
    ["/metrics/job/%FF", '"\\xff"'],
    ["/metrics/job@base64/_-_-", '"\\xff\\xef\\xfe"'],
  ];
  for (const [target, quoted] of cases) {
    it(`answers ${target} with 400 and a clear message, never a group`, () => {
      const a = answer("PUT", target);
      assert.equal(a.status, 400);
      assert.ok(a.body.includes(quoted), a.body);
      assert.match(
        a.body,
        /is not valid UTF-8 after decoding; dyshard refuses it because Pushgateway 1\.5\.1 would be left failing every later push\n$/,
      );
      assert.equal(route("DELETE", target, "group").kind, "answer");
    });
  }
});

/** Reads a routing key back into a label set; throws when the key is not a well-formed label set. */
function parseKey(key: string): Record<string, string> {
  const out: Record<string, string> = {};
  assert.ok(key.startsWith("{") && key.endsWith("}"), key);
  let i = 1;
  while (i < key.length - 1) {
    const eq = key.indexOf('="', i);
    assert.ok(eq > i, `no name at ${i} in ${key}`);
    const name = key.slice(i, eq);
    assert.match(name, /^[a-zA-Z_][a-zA-Z0-9_]*$/);
    i = eq + 2;
    let value = "";
    for (;;) {
      const c = key[i++];
      assert.ok(c !== undefined && c !== "\n", `unterminated value in ${key}`);
      if (c === '"') break;
      if (c === "\\") {
        const e = key[i++];
        assert.ok(e === "\\" || e === '"' || e === "n", `bad escape in ${key}`);
        value += e === "n" ? "\n" : e;
      } else value += c;
    }
    assert.ok(!(name in out), `duplicate ${name} in ${key}`);
    out[name] = value;
    if (key[i] === ",") i++;
    else assert.equal(i, key.length - 1, `junk after value in ${key}`);
  }
  return out;
}

describe("routingKey", () => {
  it("is the same for every spelling of one group", () => {
    const spellings = [
      "/metrics/job/j/a/1/b/x%20y",
      "/metrics/job/j/b/x%20y/a/1",
      `/metrics/job@base64/${b64("j")}/a/1/b/x%20y`,
      `/metrics/job@base64/${b64padded("j")}/b@base64/${b64("x y")}/a@base64/${b64padded("1")}`,
      "/metrics/job/j/a@base64/MQ==/b@base64/eCB5",
      "/metrics/job/j/a/0/b/x%20y/a/1",
      "/metrics/job/j/job/other/a/1/b/x%20y",
      "/metrics/job%40base64/ag/a%40base64/MQ/b/x%20y?ignored=1",
    ];
    const keys = spellings.map((s) => key(s));
    for (let i = 1; i < keys.length; i++) assert.equal(keys[i], keys[0], spellings[i]);
    assert.deepEqual(parseKey(keys[0] as string), { job: "j", a: "1", b: "x y" });
    assert.notEqual(key("/metrics/job/j/a/1/b/x%20z"), keys[0]);
    assert.notEqual(key("/metrics/job/j/a/1"), keys[0]);
  });

  it("treats a trailing slash after the job as no labels", () => {
    assert.equal(key("/metrics/job/j1/"), key("/metrics/job/j1"));
    assert.equal(key(`/metrics/job@base64/${b64("j1")}/`), key("/metrics/job/j1"));
  });

  it('drops empty-valued labels: {job=j} and {job=j,x=""} share a key (and so an owner)', () => {
    const plain = key("/metrics/job/j");
    for (const t of [
      "/metrics/job/j/x/",
      "/metrics/job/j/x@base64/=",
      "/metrics/job/j/instance/",
      "/metrics/job/j/instance@base64/",
      "/metrics/job/j/x/1/x/",
    ]) {
      assert.equal(key(t), plain, t);
    }
    assert.equal(key("/metrics/job/j/a/1/instance/"), key("/metrics/job/j/a/1"));
    assert.notEqual(key("/metrics/job/j/x/0"), plain);
    assert.equal(routingKey({ job: "j", labels: { x: "" } }), routingKey({ job: "j", labels: {} }));
  });

  it("with shard_by job, gives one key per job", () => {
    const keys = ["/metrics/job/j", "/metrics/job/j/a/1", "/metrics/job/j/a/2/b/3", `/metrics/job@base64/${b64("j")}/instance/i`].map((t) =>
      key(t, "job"),
    );
    assert.equal(new Set(keys).size, 1);
    assert.deepEqual(parseKey(keys[0] as string), { job: "j" });
    assert.notEqual(key("/metrics/job/k/a/1", "job"), keys[0]);
    assert.notEqual(key("/metrics/job/j%20", "job"), keys[0]);
  });

  it('is unambiguous: values with " , = \\ and newlines never collide', () => {
    const pieces = ["", "1", '"', ",", "=", "\\", "\n", "\\n", '\\"', 'a",b="c', "a,b=c", '1"}', "}", "{", "job", '"job="x'];
    const groups: GroupingKey[] = [];
    for (const job of ["j", 'j"', "j\\", "j,a=", 'j",a="1']) {
      groups.push({ job, labels: {} });
      for (const a of pieces) {
        groups.push({ job, labels: { a } });
        for (const b of pieces) groups.push({ job, labels: { a, b } });
      }
    }
    const seen = new Map<string, string>();
    for (const g of groups) {
      const k = routingKey(g);
      // What the key stands for: the job plus the non-empty labels, read back from the key itself.
      const meant: Record<string, string> = { job: g.job };
      for (const [n, v] of Object.entries(g.labels)) if (v !== "") meant[n] = v;
      assert.deepEqual(parseKey(k), meant, `${JSON.stringify(g)} -> ${k}`);
      const canonical = JSON.stringify(Object.entries(meant).sort(([x], [y]) => (x < y ? -1 : 1)));
      const before = seen.get(k);
      assert.ok(before === undefined || before === canonical, `${k} is the key of both ${before} and ${canonical}`);
      seen.set(k, canonical);
      assert.deepEqual(parseKey(routingKey(g, "job")), { job: g.job });
    }
    const distinct = new Set(
      groups.map((g) =>
        JSON.stringify([
          g.job,
          Object.entries(g.labels)
            .filter(([, v]) => v !== "")
            .sort(),
        ]),
      ),
    );
    assert.equal(seen.size, distinct.size);
  });

  it("cannot be confused by a value that spells out another label", () => {
    const tricky = routingKey({ job: "j", labels: { a: '1",b="2' } });
    const honest = routingKey({ job: "j", labels: { a: "1", b: "2" } });
    assert.notEqual(tricky, honest);
    assert.notEqual(routingKey({ job: 'j",a="1', labels: {} }), routingKey({ job: "j", labels: { a: "1" } }));
    assert.notEqual(routingKey({ job: "j", labels: { a: "x\\" } }), routingKey({ job: "j", labels: { a: 'x\\"' } }));
    assert.notEqual(routingKey({ job: "j\n", labels: {} }), routingKey({ job: "j\\n", labels: {} }));
    assert.notEqual(key("/metrics/job/j/a/1%2C"), key("/metrics/job/j/a/1%2Cb%3D"));
  });
});

describe("the common-path fast lane agrees with the exact parser", () => {
  it("gives the same group and key as parseExactly would, for every spelling", async () => {
    const { realisticPaths } = await import("../../bench/micro.js");
    const extra = [
      "/metrics/job/j/a/1/a/2",
      "/metrics/job/j/job/x/b/",
      "/metrics/job/j/",
      "/metrics/job/j/z/1/a@base64/MQ==/m/",
      "/metrics/job/j%20k/x/%C3%A9",
      "/metrics/job/j/q/a%3Fb?x=1",
      "/metrics/job/j/n/a%22b%5Cc",
    ];
    for (const path of [...realisticPaths(2000), ...extra]) {
      const fast = route("PUT", path, "group");
      const exact = parseExactly(path);
      assert.equal(fast.kind, "push", path);
      assert.equal(exact.kind, "group", path);
      if (fast.kind !== "push" || exact.kind !== "group") continue;
      assert.deepEqual(fast.group, exact.group, path);
      assert.equal(fast.key, routingKey(exact.group), path);
      assert.equal(
        route("PUT", path, "job").kind === "push" && (route("PUT", path, "job") as { key: string }).key,
        routingKey(exact.group, "job"),
      );
    }
  });

  it("leaves every path that path.Clean would change to the exact parser (its answer is a redirect)", () => {
    const unclean = [
      "/metrics/job//j",
      "/metrics/job/j//a/1",
      "/metrics/job/j/a//1",
      "/metrics/job/j/a/1//",
      "/metrics/job/./j",
      "/metrics/job/j/./a/1",
      "/metrics/job/j/a/./1",
      "/metrics/job/j/a/../b/c",
      "/metrics/job/j/a/..",
      "/metrics/job/j%2F%2Fa/b",
      "/metrics/job/j/a/%2E%2E/b/c",
    ];
    for (const path of unclean) {
      assert.equal(parseCommon(path), undefined, path);
      const exact = parseExactly(path);
      assert.ok(exact.kind === "reject" && exact.status === 301, `${path}: ${JSON.stringify(exact)}`);
    }
    // A dot that path.Clean keeps: declined all the same, and the exact parser stores it as spelled.
    assert.equal(parseCommon("/metrics/job/j/a/.x"), undefined);
    assert.deepEqual(parseExactly("/metrics/job/j/a/.x"), { kind: "group", group: { job: "j", labels: { a: ".x" } } });
  });
});
