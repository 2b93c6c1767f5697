// Parity of dyshard's push-path parsing with the real Pushgateway 1.5.1: every raw path in the
// corpus is PUT, unnormalised, to a real Pushgateway and to route(); both must give the same status,
// the same 4xx text, the same redirect Location, and for a 200 dyshard must have parsed exactly the
// group the Pushgateway then holds. Paths that break a Pushgateway 1.5.1 for good are sent to
// throwaway instances of their own.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pushgateway, type PushgatewayGroup } from "../support/pushgateway.js";
import { NoAnswer, sendRaw, type RawResponse } from "../support/raw-push.js";
import { route, type Route } from "../../src/routing/route.js";

const b64 = (s: string) => Buffer.from(s).toString("base64url");
const b64padded = (s: string) => Buffer.from(s).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");

/** One request with the path sent exactly as given (node:http does not normalise it, fetch would). */
const send = (pg: Pushgateway, method: string, path: string, body?: string, timeoutMs = 5000) =>
  sendRaw(pg.port, method, path, body, timeoutMs);

/** A group's labels in a canonical spelling (sorted), to tell groups apart. */
const canonical = (labels: Record<string, string>) =>
  JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

async function groupKeys(pg: Pushgateway): Promise<Map<string, PushgatewayGroup>> {
  return new Map((await pg.groups()).map((g) => [canonical(g.labels), g]));
}

type Answer = Extract<Route, { kind: "answer" }>;
type Push = Extract<Route, { kind: "push" }>;

/** Status, and the 4xx text or the redirect Location, of dyshard's own answer against the Pushgateway's. */
function assertSameAnswer(what: string, real: RawResponse, mine: Answer, method = "PUT"): void {
  assert.equal(
    mine.status,
    real.status,
    `${what}: dyshard ${mine.status} ${JSON.stringify(mine.body)}, Pushgateway ${real.status} ${JSON.stringify(real.body)}`,
  );
  if (real.status >= 300 && real.status < 400) {
    assert.equal(mine.headers.location, real.headers.location, `${what}: Location`);
  } else if (real.status >= 400 && method !== "HEAD") {
    assert.equal(mine.body, real.body, `${what}: body`);
    assert.equal(mine.headers["content-type"], real.headers["content-type"], `${what}: content-type`);
  }
  if (real.headers.allow !== undefined || mine.headers.allow !== undefined)
    assert.equal(mine.headers.allow, real.headers.allow, `${what}: Allow`);
}

// Each path uses its own job, so no two pushes land in one group (or in {job=x} next to
// {job=x,instance=""}, which poisons an instance). None of these breaks a Pushgateway.
const CORPUS: string[] = [
  // plain, accepted
  "/metrics/job/p01",
  "/metrics/job/p02/",
  "/metrics/job/p03/instance/",
  "/metrics/job/p04/a/1/b/2",
  "/metrics/job/p05/b/2/a/1",
  "/metrics/job/p06/a/1/instance/",
  "/metrics/job/p07/a/1/instance/i-1",
  "/metrics/job/p08/_a/1/a1_B/2/_/3",
  "/metrics/job/p09?x=1&y=%FF",
  // percent-decoding
  "/metrics/job/p10%20x",
  "/metrics/job/p11%3Fq",
  "/metrics/job/p12/a/x%20y",
  "/metrics/job/p13/a/%E2%9C%93",
  "/metrics/job/p14/a/x%0Ay",
  "/metrics/job/p15/a/%22q%22%2C%3D%5C",
  "/metrics/job/p16/a/%25/b/+/c/%00",
  "/metrics/job%2Fp17",
  "/metrics%2Fjob%2Fp18%2Fa%2F1",
  "/metrics/job/p19%2Fa%2F1",
  "/metrics/job/p20/a%40base64/MQ",
  `/metrics/job%40base64/${b64("p21")}`,
  '/metrics/job/p22/a/"q"',
  "/metrics/job/p23#x/a/1",
  "/metrics/job/p24/a/1;b",
  // job@base64
  `/metrics/job@base64/${b64("p25a")}`,
  `/metrics/job@base64/${b64padded("p26a")}`,
  `/metrics/job@base64/${b64padded("p27a")}%3D%3D`,
  `/metrics/job@base64/${b64("p28/x")}`,
  `/metrics/job@base64/${b64("p29?>>")}/a/1`,
  `/metrics/job@base64/${b64("p30")}/`,
  `/metrics/job@base64/${b64("p31")}/job/other`,
  `/metrics/job@base64/%0A${b64("p32")}`,
  // label@base64
  "/metrics/job/p33/a@base64/MQ",
  "/metrics/job/p34/a@base64/MQ==",
  "/metrics/job/p35/a@base64/=",
  "/metrics/job/p36/a@base64/===",
  "/metrics/job/p37/a@base64/",
  "/metrics/job/p38/a@base64/=/b/1",
  `/metrics/job/p39/a@base64/${b64("x/y z")}`,
  `/metrics/job/p40/a@base64/${b64("a~~~??")}`,
  `/metrics/job/p41/a@base64/${b64("✓")}`,
  "/metrics/job/p42/a@base64/%0AM%0DQ",
  "/metrics/job/p43/a@base64/QUJD%3D%3D",
  "/metrics/job/p44/a@base64/QU/B/c",
  // duplicates and the job label
  "/metrics/job/p45/a/1/a/2",
  "/metrics/job/p46/a/1/a@base64/Mg",
  "/metrics/job/p47/a/%FF/a/1",
  "/metrics/job/p48/job/other",
  `/metrics/job/p49/job@base64/${b64("other")}/a/1`,
  "/metrics/job/p50/job/%FF",
  "/metrics/job/p51/job@base64/_-_-",
  // odd component counts
  "/metrics/job/q01%2Fb",
  "/metrics/job/q02/a",
  "/metrics/job/q03/a/1/b",
  "/metrics/job/q04/a/1/",
  "/metrics/job/q05/a/1/b/2/",
  "/metrics/job/q06/a/%22%5C%0A/b",
  "/metrics/job/q07/a@base64/QU%2FB",
  // label names
  "/metrics/job/q08/__a/1",
  "/metrics/job/q09/__a@base64/MQ",
  "/metrics/job/q10/1a/1",
  "/metrics/job/q11/a-b/1",
  "/metrics/job/q12/a.b/1",
  "/metrics/job/q13/%C3%A4/1",
  "/metrics/job/q14/@base64/MQ",
  "/metrics/job/q15/a@base64@base64/MQ",
  "/metrics/job/q16/a/1/b%20c/2",
  // bad label base64
  "/metrics/job/q17/a@base64/+A",
  "/metrics/job/q18/a@base64/QUJD+A",
  "/metrics/job/q19/a@base64/Q",
  "/metrics/job/q20/a@base64/QQ=x",
  "/metrics/job/q21/a@base64/a%20b",
  "/metrics/job/q22/job@base64/+",
  "/metrics/job/q23/a@base64/_-_-+",
  // empty job
  "/metrics/job@base64/=",
  "/metrics/job@base64/===",
  "/metrics/job@base64/=/a/1",
  "/metrics/job@base64/=/a-b/1",
  "/metrics/job@base64/=/a/1/b",
  "/metrics/job@base64/=/a@base64/+",
  "/metrics/job@base64/",
  "/metrics/job/",
  "/metrics/job/?x=1",
  // malformed escapes (net/http's own 400)
  "/metrics/job/q24/a/%ZZ",
  "/metrics/job/q25%2",
  "/metrics/job/q26%",
  // cleaned paths: 301
  "/metrics/job//r01",
  "/metrics/job/./r02",
  "/metrics/job/x/../r03",
  "/metrics/job/r04/a/1/.",
  "/metrics/job/r05/a/./",
  "/metrics/job/r06/x/%2E%2E",
  "/metrics/job/r07%2F%2Fa/1",
  "/metrics/job/r08//1",
  "///metrics/job/r09",
  "/metrics//job/r10/a/1",
  "/metrics/job//r11?x=1&y=%FF",
  // cleaned out of the push routes: still ServeMux's 301 (found by the differential fuzz)
  "/metrics/job/../r12/a/1",
  "/metrics/job/.",
  "/metrics/job/..",
  "/metrics/job//r12%20x/a/%E2%9C%93",
  "/metrics/job//r13!(x)*'",
  '/metrics/job//r14"x',
  "/metrics/job//r15$&+,:;=@x",
  "/metrics/job//r16%3Fx",
  // wrong case of the static part: 307
  "/Metrics/job/r17",
  "/metrics/JOB/r18/a/1",
  `/METRICS/JOB@BASE64/${b64("r19")}`,
  "/metrics/Job/r20%20x/X/1",
  "/metrics/Job/r21%2Fa/1",
];

describe("parity with Pushgateway 1.5.1: PUT of raw paths", () => {
  let pg: Pushgateway;
  before(async () => {
    pg = await Pushgateway.start();
  });
  after(async () => {
    await pg?.kill();
  });

  it("has a corpus of distinct push paths", () => {
    assert.ok(CORPUS.length >= 40);
    assert.equal(new Set(CORPUS).size, CORPUS.length);
    for (const path of CORPUS) assert.notEqual(route("PUT", path, "group").kind, "other", path);
  });

  for (const path of CORPUS) {
    it(`PUT ${path}`, async () => {
      const mine = route("PUT", path, "group");
      const before = await groupKeys(pg);
      const real = await send(pg, "PUT", path, "m 1\n");
      const afterPush = await groupKeys(pg);
      const added = [...afterPush.keys()].filter((k) => !before.has(k));
      if (mine.kind === "push") {
        assert.equal(
          real.status,
          200,
          `dyshard routes ${path} as ${JSON.stringify(mine.group)}, the Pushgateway answered ${real.status} ${real.body}`,
        );
        assert.equal(added.length, 1, `the push should have created exactly one group, it created ${JSON.stringify(added)}`);
        const held = afterPush.get(added[0] as string) as PushgatewayGroup;
        assert.deepEqual({ job: mine.group.job, ...mine.group.labels }, held.labels, "dyshard's group and the Pushgateway's");
        assert.equal(held.last_push_successful, true);
      } else {
        assert.equal(mine.kind, "answer");
        assertSameAnswer(`PUT ${path}`, real, mine as Answer);
        assert.deepEqual(added, [], "a push dyshard answers itself must store nothing on the Pushgateway either");
      }
    });
  }

  it("left the instance healthy: GET /metrics answers 200 and a later push succeeds", async () => {
    const metrics = await send(pg, "GET", "/metrics");
    assert.equal(metrics.status, 200, metrics.body.slice(0, 500));
    assert.equal((await send(pg, "PUT", `/metrics/job@base64/${b64("zz-final")}`, "m 1\n")).status, 200);
  });
});

describe("parity with Pushgateway 1.5.1: one group, one key", () => {
  let pg: Pushgateway;
  before(async () => {
    pg = await Pushgateway.start();
  });
  after(async () => {
    await pg?.kill();
  });

  // Spellings the Pushgateway stores as one group must get one routing key (and so one owner).
  const SETS: string[][] = [
    [
      "/metrics/job/s1/a/1/b/x%20y",
      "/metrics/job/s1/b/x%20y/a/1",
      `/metrics/job@base64/${b64("s1")}/a@base64/MQ/b@base64/${b64padded("x y")}`,
      "/metrics/job/s1/a/0/b/x%20y/a/1",
      "/metrics/job/s1/job/zz/a/1/b/x%20y",
    ],
    [
      "/metrics/job/s2",
      "/metrics/job/s2/",
      `/metrics/job@base64/${b64padded("s2")}`,
      `/metrics/job%40base64/${b64("s2")}/`,
      "/metrics/job%2Fs2?x=1",
    ],
    ["/metrics/job/s3/instance/", "/metrics/job/s3/instance@base64/=", "/metrics/job/s3/instance@base64/"],
  ];
  for (const spellings of SETS) {
    it(`${spellings[0]} and its other spellings`, async () => {
      const keys = new Set<string>();
      let first: string | undefined;
      for (const path of spellings) {
        const r = route("PUT", path, "group");
        assert.equal(r.kind, "push", path);
        keys.add((r as Push).key);
        assert.equal((await send(pg, "PUT", path, "m 1\n")).status, 200, path);
        const groups = [...(await groupKeys(pg)).keys()].filter((k) => k.includes(JSON.stringify((r as Push).group.job)));
        assert.equal(groups.length, 1, `${path}: the Pushgateway holds ${JSON.stringify(groups)}`);
        first ??= groups[0];
        assert.equal(groups[0], first, `${path} went to another group on the Pushgateway`);
      }
      assert.equal(keys.size, 1, `dyshard keys: ${[...keys].join(" ")}`);
    });
  }
});

describe("parity with Pushgateway 1.5.1: other methods", () => {
  let pg: Pushgateway;
  before(async () => {
    pg = await Pushgateway.start();
  });
  after(async () => {
    await pg?.kill();
  });

  const PATHS = [
    "/metrics/job/m01",
    "/metrics/job/m02/a/1",
    "/metrics/job@base64/=",
    "/metrics/job/m03/a-b/1",
    "/metrics/job/",
    "/metrics/job@base64/",
    "/Metrics/job/m04",
    "/metrics/job//m05",
    "/metrics/job/m06/a/%ZZ",
  ];
  for (const method of ["POST", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH"]) {
    for (const path of PATHS) {
      // Go answers a malformed target with a body even to HEAD, which node:http cannot read.
      if (method === "HEAD" && path.includes("%ZZ")) continue;
      it(`${method} ${path}`, async () => {
        const mine = route(method, path, "group");
        const real = await send(pg, method, path, method === "POST" ? "m 1\n" : undefined);
        if (mine.kind === "push") {
          assert.equal(real.status, method === "DELETE" ? 202 : 200, real.body);
          return;
        }
        assert.equal(mine.kind, "answer");
        assertSameAnswer(`${method} ${path}`, real, mine as Answer, method);
      });
    }
  }
});

// Requests that break a Pushgateway 1.5.1 for good: each goes to an instance of its own.
describe("parity with Pushgateway 1.5.1: paths that break an instance", () => {
  const started: Pushgateway[] = [];
  after(async () => {
    await Promise.all(started.map((p) => p.kill()));
  });
  async function throwaway(): Promise<Pushgateway> {
    const pg = await Pushgateway.start();
    started.push(pg);
    return pg;
  }

  const BAD_JOB_BASE64: Array<[string, string]> = [
    ["PUT", "/metrics/job@base64/fz4+"],
    ["PUT", "/metrics/job@base64/QUJD+A"],
    ["PUT", "/metrics/job@base64/a"],
    ["PUT", "/metrics/job@base64/QQ=x"],
    ["PUT", "/metrics/job@base64/QUJD_-_-+"],
    ["PUT", "/metrics/job@base64/fz4+/a-b/1"],
    ["POST", "/metrics/job@base64/fz4+"],
    ["DELETE", "/metrics/job@base64/fz4+"],
  ];
  for (const [method, path] of BAD_JOB_BASE64) {
    it(`${method} ${path}: same 400 as the Pushgateway, whose ${method} route for it then hangs`, async () => {
      const pg = await throwaway();
      const mine = route(method, path, "group");
      assert.equal(mine.kind, "answer", "dyshard must answer this itself");
      const body = method === "DELETE" ? undefined : "m 1\n";
      const real = await send(pg, method, path, body, 3000);
      assertSameAnswer(`${method} ${path}`, real, mine as Answer, method);
      assert.match(real.body, /^invalid base64 encoding in job name /);
      // Why dyshard must never forward it: the handler's mutex is now held for good. Each route
      // (job@base64 with and without a label part, per method) has a handler and mutex of its own.
      const ok = method === "DELETE" ? 202 : 200;
      const withLabels = path.slice("/metrics/job@base64/".length).includes("/");
      const sameRoute = `/metrics/job@base64/${b64("after")}${withLabels ? "/a/1" : ""}`;
      const otherRoute = `/metrics/job@base64/${b64("after")}${withLabels ? "" : "/a/1"}`;
      await assert.rejects(send(pg, method, sameRoute, body, 1000), NoAnswer, `${method} ${sameRoute} should hang`);
      assert.equal((await send(pg, method, otherRoute, body, 3000)).status, ok, `${method} ${otherRoute} (another route) still works`);
      assert.equal((await send(pg, method, "/metrics/job/after-plain", body, 3000)).status, ok, "plain job pushes still work");
      await pg.kill();
    });
  }

  const NOT_UTF8 = [
    "/metrics/job/n01/b@base64/_-_-",
    "/metrics/job/n02/a/%FF",
    "/metrics/job/n03/a/x%C3",
    "/metrics/job/n04/a/%ED%A0%80",
    "/metrics/job/%FF",
    "/metrics/job@base64/_-_-",
  ];
  for (const path of NOT_UTF8) {
    it(`PUT ${path}: dyshard answers 400 itself; the Pushgateway says 400 but is left broken`, async () => {
      const mine = route("PUT", path, "group");
      assert.equal(mine.kind, "answer", "dyshard must answer this itself");
      assert.equal((mine as Answer).status, 400);
      assert.match((mine as Answer).body, /is not valid UTF-8 after decoding/);

      const pg = await throwaway();
      assert.equal((await send(pg, "PUT", "/metrics/job/healthy-before", "m 1\n", 3000)).status, 200);
      assert.equal((await send(pg, "GET", "/metrics", undefined, 3000)).status, 200);
      const real = await send(pg, "PUT", path, "m 1\n", 3000);
      assert.equal(real.status, 400, real.body);
      // The failure path stored the group anyway: the instance now fails every scrape and push.
      const scrape = await send(pg, "GET", "/metrics", undefined, 3000);
      assert.equal(scrape.status, 500, scrape.body.slice(0, 300));
      const later = await send(pg, "PUT", "/metrics/job/innocent", "m 1\n", 3000);
      assert.equal(later.status, 400, later.body);
      await pg.kill();
    });
  }
});
