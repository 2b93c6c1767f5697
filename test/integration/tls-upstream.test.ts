// dyshard in front of real Pushgateways that serve HTTPS and want basic auth (each started with
// its own --web.config.file, certificates and bcrypt hashes made in the test): pushes through
// every engine, standby writes, health checks and a handover run reach them with the CA of
// --upstream-ca and the credentials of --upstream-auth-file (one of them by upstream URL), the
// client's Authorization replaced; a wrong CA or no credential is a clear reason on the ring;
// --upstream-insecure-skip-verify is needed for an untrusted certificate; no secret is ever in
// a log line, /metrics, /-/dyshard/ring or an error answer.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import type { App } from "../../src/runtime/single-process.js";
import { CLI, spawnDyshard, startDyshard } from "../support/dyshard.js";
import { waitFor } from "../support/ports.js";
import { familyValue, Pushgateway, type PushgatewayGroup } from "../support/pushgateway.js";
import { Recorder } from "../support/recorder.js";
import { bcryptHash, securePushgateway, TestCa } from "../support/tls.js";

const PUSHER = { username: "pusher", password: "pw-Hunter2-7f3a" };
const OTHER = { username: "other", password: "pw-Other-91bc" };
const ENGINES = ["undici", "native", "http-proxy"];
const TOKEN = "tok-4b1d9e0c2a";
const CLIENT = { username: "client", password: "client-secret-5e2d" };
const CLIENT_AUTH = `Basic ${Buffer.from(`${CLIENT.username}:${CLIENT.password}`).toString("base64")}`;
const SECRETS = [
  PUSHER.password,
  OTHER.password,
  TOKEN,
  ...[PUSHER, OTHER].map((c) => Buffer.from(`${c.username}:${c.password}`).toString("base64")),
];

interface Slot {
  upstream: string;
  healthy: boolean;
  reason: string;
}
const ring = async (app: App) => (await (await fetch(`${app.url}/-/dyshard/ring`)).json()) as { slots: Slot[] };
const text = async (app: App, path: string) => (await fetch(app.url + path)).text();
const pushVia = async (app: App, path: string, body: string, method = "PUT") => {
  const res = await fetch(app.url + path, { method, body, headers: { authorization: CLIENT_AUTH } });
  return { status: res.status, text: await res.text() };
};
/** GET /-/ready answered 200 by a Pushgateway (one refused for its credential never reaches the handler). */
const readyPassed = async (pg: Pushgateway) =>
  Number(
    /^pushgateway_http_requests_total\{code="200",handler="ready",method="get"\} (\d+)$/m.exec((await pg.get("/metrics")).text)?.[1] ?? 0,
  );
/** Copies of job `job` on each instance: primary ("p") or standby ("s"). */
const copies = async (pgs: Pushgateway[], job: string) =>
  (await Promise.all(pgs.map((p) => p.groups()))).map((gs: PushgatewayGroup[]) =>
    gs.filter((g) => g.labels.job === job).map((g) => (g.labels.dyshard_replica ? "s" : "p")),
  );

describe("HTTPS upstreams with basic auth", () => {
  let ca: TestCa;
  let pgs: Pushgateway[];
  let authFile: string;
  const apps: (App & { logs: string[] })[] = [];
  const answers: string[] = [];
  /** dyshard over `upstreams`; `checked()` waits until each answered two of its checks 200 and all are healthy. */
  const start = async (flags: Record<string, unknown>, upstreams = pgs) => {
    const before = await Promise.all(upstreams.map(readyPassed));
    const app = await startDyshard(
      upstreams.map((p) => p.url),
      flags,
    );
    apps.push(app);
    const checked = () =>
      waitFor("two passed checks of each instance", async () => {
        const now = await Promise.all(upstreams.map(readyPassed));
        return now.every((n, i) => n >= (before[i] as number) + 2) && (await ring(app)).slots.every((s) => s.healthy);
      });
    return Object.assign(app, { checked });
  };

  before(async () => {
    ca = TestCa.create();
    pgs = await Promise.all([
      securePushgateway(ca, "pg0", PUSHER),
      securePushgateway(ca, "pg1", PUSHER),
      securePushgateway(ca, "pg2", OTHER),
    ]);
    authFile = join(ca.dir, "upstream-auth.yml");
    const pg2 = pgs[2] as Pushgateway;
    writeFileSync(
      authFile,
      `basic_auth:\n  username: ${PUSHER.username}\n  password: "${PUSHER.password}"\nupstreams:\n  ${pg2.url}:\n    basic_auth: { username: ${OTHER.username}, password: "${OTHER.password}" }\n`,
    );
  });
  // Each test's dyshards stop with it: one left running would sweep the instances the next test reads
  // (a --replicas 2 one writes standby copies of its groups).
  const logs: string[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) {
      answers.push(await text(app, "/metrics"), await text(app, "/-/dyshard/ring"));
      await app.stop();
      logs.push(...app.logs);
    }
  });
  after(async () => {
    const leaked = SECRETS.filter((s) => [...logs, ...answers].some((t) => t.includes(s)));
    process.stdout.write(`# secrets searched in ${logs.length} log lines and ${answers.length} answers: ${leaked.length} found\n`);
    assert.deepEqual(leaked, [], "a credential was logged or shown");
    await Promise.all((pgs ?? []).map((p) => p.kill()));
    ca?.remove();
  });

  for (const engine of ENGINES) {
    it(`${engine}: pushes and their standby copies reach the instances; checks pass; a DELETE deletes every copy`, async () => {
      const app = await start({ engine, upstreamCa: ca.certFile, upstreamAuthFile: authFile, replicas: 2 });
      await app.checked();
      const jobs = Array.from({ length: 12 }, (_, i) => `tls_${engine.replace("-", "_")}_${i}`);
      for (const job of jobs) assert.deepEqual(await pushVia(app, `/metrics/job/${job}`, `v 1\n`), { status: 200, text: "" });
      for (const job of jobs) assert.deepEqual((await copies(pgs, job)).flat().sort(), ["p", "s"], job);
      const deleted = await pushVia(app, `/metrics/job/${jobs[0] as string}`, "", "DELETE");
      assert.equal(deleted.status, 202);
      assert.deepEqual((await copies(pgs, jobs[0] as string)).flat(), []);
      assert.match(await text(app, "/metrics"), /dyshard_replica_writes_total\{result="ok"\} (1[2-9]|[2-9]\d)/);
    });
  }

  it("with --push-auth-file too: the client's credential opens dyshard, dyshard's own goes upstream", async () => {
    const pushAuth = join(ca.dir, "push-auth.yml");
    writeFileSync(pushAuth, `basic_auth_users:\n  ${CLIENT.username}: '${bcryptHash(CLIENT.username, CLIENT.password)}'\n`);
    const app = await start({ pushAuthFile: pushAuth, upstreamCa: ca.certFile, upstreamAuthFile: authFile });
    assert.equal((await pushVia(app, "/metrics/job/tls_both_auth", "b 1\n")).status, 200);
    assert.equal((await copies(pgs, "tls_both_auth")).flat().length, 1);
    assert.equal((await fetch(`${app.url}/metrics/job/tls_both_auth`, { method: "PUT", body: "b 2\n" })).status, 401);
  });

  it("a handover run (POST /-/dyshard/rebalance) moves a group between HTTPS instances", async () => {
    const app = await start({ upstreamCa: ca.certFile, upstreamAuthFile: authFile, rebalanceInterval: "0" });
    await app.checked();
    assert.equal((await pushVia(app, "/metrics/job/tls_moved", "moved 1\n")).status, 200);
    const owner = (await copies(pgs, "tls_moved")).findIndex((c) => c.length > 0);
    const stale = pgs[(owner + 1) % 3] as Pushgateway; // a newer copy on an instance that does not own it
    assert.equal((await stale.get("/metrics/job/tls_moved", "PUT", "moved 2\n")).status, 200);
    const res = await fetch(`${app.url}/-/dyshard/rebalance`, { method: "POST" });
    const report = (await res.json()) as { copied: number; deleted: number; failed: number };
    assert.equal(res.status, 200);
    assert.equal(report.failed, 0);
    assert.ok(report.copied >= 1 && report.deleted >= 1, JSON.stringify(report));
    assert.deepEqual(
      (await copies(pgs, "tls_moved")).map((c) => c.length),
      [0, 1, 2].map((i) => (i === owner ? 1 : 0)),
    );
    const moved = (await (pgs[owner] as Pushgateway).groups()).find((g) => g.labels.job === "tls_moved") as PushgatewayGroup;
    assert.equal(familyValue(moved, "moved"), "2");
  });

  it("a wrong CA, or no credential, marks the instances down with a reason that says why (no secret in it)", async () => {
    const other = TestCa.create("other-ca");
    try {
      const wrongCa = await start({ upstreamCa: other.certFile, upstreamAuthFile: authFile });
      const noAuth = await start({ upstreamCa: ca.certFile });
      const failed = await pushVia(wrongCa, "/metrics/job/tls_wrong_ca", "w 1\n");
      answers.push(failed.text);
      assert.equal(failed.status, 502);
      assert.match(failed.text, /certificate cannot be verified .*UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
      await waitFor("all down", async () => (await ring(wrongCa)).slots.every((s) => !s.healthy));
      await waitFor("all down", async () => (await ring(noAuth)).slots.every((s) => !s.healthy));
      for (const s of (await ring(wrongCa)).slots)
        assert.match(s.reason, /failing checks of \/-\/ready: certificate cannot be verified \(not signed by a CA of --upstream-ca/);
      for (const s of (await ring(noAuth)).slots) assert.match(s.reason, /failing checks of \/-\/ready: status 401 \(unauthorized\)/);
      const refused = await pushVia(wrongCa, "/metrics/job/tls_wrong_ca", "w 1\n");
      answers.push(refused.text);
      assert.equal(refused.status, 503);
    } finally {
      other.remove();
    }
  });

  it("--upstream-insecure-skip-verify reaches an instance with an untrusted certificate through every engine; without it, refused", async () => {
    const untrusted = TestCa.create("untrusted");
    const pg = await securePushgateway(untrusted, "pg-untrusted");
    try {
      const verifying = await start({}, [pg]);
      assert.ok(!verifying.logs.some((l) => l.includes("--upstream-insecure-skip-verify")));
      for (const engine of ENGINES) {
        const job = `tls_insecure_${engine.replace("-", "_")}`;
        const skipping = await start({ engine, upstreamInsecureSkipVerify: true }, [pg]);
        assert.ok(skipping.logs.some((l) => l.includes('"level":40') && l.includes("--upstream-insecure-skip-verify")));
        await skipping.checked();
        assert.equal((await pushVia(skipping, `/metrics/job/${job}`, "i 1\n")).status, 200);
        assert.equal((await pg.groups()).filter((g) => g.labels.job === job).length, 1);
        const strict = await start({ engine, healthInterval: "60s" }, [pg]); // one check: still taken as up
        const refused = await pushVia(strict, `/metrics/job/${job}_strict`, "i 1\n");
        answers.push(refused.text);
        assert.equal(refused.status, 502, engine);
        assert.match(refused.text, /certificate cannot be verified/, engine);
      }
      await waitFor("down without the flag", async () => !(await ring(verifying)).slots[0]?.healthy);
      assert.match((await ring(verifying)).slots[0]?.reason ?? "", /certificate cannot be verified/);
    } finally {
      await pg.kill();
      untrusted.remove();
    }
  });

  it("a CA or credentials file that cannot be used stops dyshard at start (exit 2, the file named, no secret); `dyshard rebalance` uses both", () => {
    const broken = join(ca.dir, "broken-auth.yml");
    writeFileSync(broken, `basic_auth: { username: u, password: ${PUSHER.password}\n`);
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 20_000 });
    const serve = (...args: string[]) => run("serve", "--listen", "127.0.0.1:0", "--upstream", (pgs[0] as Pushgateway).url, ...args);
    const cases: [string[], RegExp][] = [
      [["--upstream-ca", join(ca.dir, "missing.pem")], /cannot read --upstream-ca .*missing\.pem: ENOENT/],
      [["--upstream-ca", broken], /--upstream-ca .*broken-auth\.yml holds no PEM certificate/],
      [["--upstream-auth-file", broken], /--upstream-auth-file .*broken-auth\.yml is not valid YAML \(line \d+, column \d+\)/],
    ];
    for (const [args, message] of cases) {
      const r = serve(...args);
      answers.push(r.stderr);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
    }
    const upstreams = pgs.flatMap((p) => ["--upstream", p.url]);
    const dry = run("rebalance", "--dry-run", "--upstream-ca", ca.certFile, "--upstream-auth-file", authFile, ...upstreams);
    assert.equal(dry.status, 0, dry.stderr + dry.stdout);
    const report = JSON.parse(dry.stdout) as { errors: unknown[]; inventoried: string[] };
    assert.deepEqual(report.errors, []);
    assert.deepEqual(report.inventoried.sort(), pgs.map((p) => p.url).sort());
    // Without the credentials the instances answer 401 and none is read.
    const without = JSON.parse(run("rebalance", "--dry-run", "--upstream-ca", ca.certFile, ...upstreams).stdout) as typeof report;
    assert.deepEqual(without.inventoried, []);
  });

  it("--workers 2: the workers push with the CA and credentials, the primary checks with them", async () => {
    const checksBefore = await Promise.all(pgs.map(readyPassed));
    const d = await spawnDyshard([
      ...["--workers", "2", "--health-interval", "200ms", "--health-rise", "1"],
      ...["--upstream-ca", ca.certFile, "--upstream-auth-file", authFile],
      ...pgs.flatMap((p) => ["--upstream", p.url]),
    ]);
    try {
      const jobs = Array.from({ length: 20 }, (_, i) => `tls_workers_${i}`);
      const statuses = await Promise.all(
        jobs.map((job) => fetch(`${d.url}/metrics/job/${job}`, { method: "PUT", body: "w 1\n" }).then((r) => r.status)),
      );
      assert.deepEqual(new Set(statuses), new Set([200]));
      for (const job of jobs) assert.equal((await copies(pgs, job)).flat().length, 1, job);
      await waitFor("two passed checks of each instance", async () =>
        (await Promise.all(pgs.map(readyPassed))).every((n, i) => n >= (checksBefore[i] as number) + 2),
      );
      const shown = (await (await fetch(`${d.url}/-/dyshard/ring`)).text()) + (await (await fetch(`${d.url}/metrics`)).text());
      answers.push(shown, d.output());
      assert.ok(!/failing checks/.test(shown), shown);
    } finally {
      await d.stop();
    }
  });
});

describe("a bearer token from --upstream-auth-file", () => {
  it("replaces the client's Authorization on pushes and standby writes of every engine, and goes with the health checks", async () => {
    const [a, b] = await Promise.all([Recorder.start(), Recorder.start()]);
    const ca = TestCa.create("bearer");
    const file = join(ca.dir, "bearer.yml");
    // An upstream not configured (here: a path prefix none has) gets a warning: a typo would leave its instance the default credential.
    writeFileSync(file, `bearer_token: ${TOKEN}\nupstreams:\n  ${a.url}/pg: { bearer_token: typo }\n`);
    try {
      for (const engine of ENGINES) {
        const app = await startDyshard([a.url, b.url], { engine, upstreamAuthFile: file, replicas: 2 });
        assert.equal((await pushVia(app, `/metrics/job/bearer_${engine.replace("-", "_")}`, "b 1\n")).status, 200);
        assert.equal(app.logs.filter((l) => l.includes("names upstreams that are not configured") && l.includes(`${a.url}/pg`)).length, 1);
        await app.stop();
        assert.ok(!app.logs.some((l) => l.includes(TOKEN) || l.includes("typo")), "no token in the logs");
      }
      const seen = [...a.requests, ...b.requests];
      const pushes = seen.filter((r) => r.method === "PUT");
      assert.equal(pushes.length, 6, "3 primaries and 3 standby copies");
      assert.ok(seen.some((r) => r.url === "/-/ready"));
      assert.deepEqual(new Set(seen.map((r) => r.headers.authorization)), new Set([`Bearer ${TOKEN}`]));
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      ca.remove();
    }
  });
});
