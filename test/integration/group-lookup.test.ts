// GET /-/dyshard/group and `dyshard where`, over real Pushgateways with --replicas 2: a group's key,
// owner and standby on the current ring, and where its copies really are, read live; a copy pushed
// straight to the wrong instance is flagged misplaced, a second copy duplicate, the empty-label
// twin counted as the group itself; a bad path gets the Pushgateway's 400; a dead instance is named.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { routingKey } from "../../src/pushgateway/grouping-key.js";
import type { App } from "../../src/runtime/single-process.js";
import { CLI, startDyshard } from "../support/dyshard.js";
import { push } from "../support/push.js";
import { startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";

interface Lookup {
  path: string;
  key: string;
  owner: string | null;
  standbys: string[];
  copies: { upstream: string; role: string; labels: Record<string, string>; push_time_seconds: number | null; placed: string }[];
  errors: { upstream: string; error: string }[];
}

describe("the group lookup", () => {
  let pgs: Pushgateway[];
  let app: App;
  const lookUp = async (path: string) => {
    const res = await fetch(`${app.url}/-/dyshard/group?path=${encodeURIComponent(path)}`);
    return { status: res.status, text: await res.text() };
  };
  const lookup = async (path: string) => {
    const r = await lookUp(path);
    assert.equal(r.status, 200, r.text);
    return JSON.parse(r.text) as Lookup;
  };
  /** The slots of a group: owner, standby, and the one that should hold nothing. */
  const slotsOf = (instance: string) => {
    const [owner, standby] = app.membership.ring.owners(routingKey({ job: "where", labels: { instance } }), 2) as [number, number];
    return { owner, standby, other: [0, 1, 2].find((s) => s !== owner && s !== standby)! };
  };
  before(async () => {
    pgs = await startPushgateways(3);
    app = await startDyshard(
      pgs.map((p) => p.url),
      { replicas: "2", rebalanceInterval: "0", rebalanceSettle: "1h" },
    );
  });
  after(async () => {
    await app?.stop();
    await stopAll(pgs ?? []);
  });

  it("a group pushed through dyshard: its primary on the owner and its standby copy on the standby slot, both ok, with their push times", async () => {
    const before = Date.now() / 1000;
    assert.equal((await push(app.url, "/metrics/job/where/instance/a", "v 1\n")).status, 200);
    const l = await lookup("/metrics/job/where/instance/a");
    const { owner, standby } = slotsOf("a");
    assert.equal(l.key, '{instance="a",job="where"}');
    assert.equal(l.owner, pgs[owner]!.url);
    assert.deepEqual(l.standbys, [pgs[standby]!.url]);
    assert.deepEqual(
      l.copies.map((c) => [c.upstream, c.role, c.placed]).sort(),
      [
        [pgs[owner]!.url, "primary", "ok"],
        [pgs[standby]!.url, "standby", "ok"],
      ].sort(),
    );
    for (const c of l.copies) assert.ok(c.push_time_seconds! >= before - 1 && c.push_time_seconds! <= Date.now() / 1000 + 1);
    assert.deepEqual(l.errors, []);
  });

  it("a copy pushed straight to an instance that is neither owner nor standby is a duplicate; its twin path finds the same copies", async () => {
    const { other } = slotsOf("a");
    // The twin spelling ({instance="a", x=""}) on the third instance: one group with the primary.
    assert.equal((await push(pgs[other]!.url, "/metrics/job/where/instance/a/x@base64/=", "v 2\n")).status, 200);
    const l = await lookup("/metrics/job/where/instance/a");
    const stray = l.copies.find((c) => c.upstream === pgs[other]!.url);
    assert.deepEqual(stray && [stray.role, stray.placed, stray.labels.x], ["primary", "duplicate", ""]);
    assert.equal(l.copies.filter((c) => c.placed === "ok").length, 2);
    const twin = await lookup("/metrics/job/where/instance/a/x@base64/=");
    assert.equal(twin.key, l.key);
    assert.deepEqual(twin.copies, l.copies);
  });

  it("a group only on a non-owner is misplaced, and so is a standby copy on the owner", async () => {
    const { owner, other } = slotsOf("b");
    assert.equal((await push(pgs[other]!.url, "/metrics/job/where/instance/b", "v 3\n")).status, 200);
    assert.equal((await push(pgs[owner]!.url, "/metrics/job/where/instance/b/dyshard_replica/1", "v 3\n")).status, 200);
    const l = await lookup("/metrics/job/where/instance/b");
    assert.deepEqual(
      l.copies.map((c) => [c.upstream, c.role, c.placed]).sort(),
      [
        [pgs[other]!.url, "primary", "misplaced"],
        [pgs[owner]!.url, "standby", "misplaced"],
      ].sort(),
    );
  });

  it("a bad path gets the Pushgateway's 400 and message; no path is told how to ask", async () => {
    const odd = await lookUp("/metrics/job/where/a");
    assert.deepEqual([odd.status, odd.text], [400, 'odd number of components in label string "/a"\n']);
    const label = await lookUp("/metrics/job/where/__x/1");
    assert.deepEqual([label.status, label.text], [400, 'improper label name "__x"\n']);
    const none = await fetch(`${app.url}/-/dyshard/group`);
    assert.equal(none.status, 400);
    assert.match(await none.text(), /path=/);
    const other = await lookUp("/api/v1/metrics");
    assert.equal(other.status, 400);
    assert.match(other.text, /not a push path/);
  });

  it("dyshard where: a readable line per path with the flags, --json the endpoint's answer, exit 1 when anything is off", async () => {
    // Not spawnSync: dyshard runs in this process and must go on answering.
    const run = (args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(process.execPath, [CLI, "where", ...args], { encoding: "utf8", timeout: 20_000 }, (_err, stdout, stderr) =>
          resolve({ status: child.exitCode, stdout, stderr }),
        );
      });
    const where = (...args: string[]) => run(["--dyshard-url", app.url, ...args]);
    const good = await where("/metrics/job/where/instance/a");
    assert.equal(good.status, 1, "instance a has a duplicate");
    assert.match(
      good.stdout,
      /^\/metrics\/job\/where\/instance\/a {2}key \{instance="a",job="where"\} {2}owner http:\S+ {2}standbys http:\S+ {2}copies: .*primary DUPLICATE/,
    );
    const json = await where("--json", "/metrics/job/where/instance/b", "/metrics/job/where/a");
    const lines = json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Lookup & { status?: number; error?: string });
    assert.deepEqual(
      lines[0]!.copies.map((c) => c.placed),
      ["misplaced", "misplaced"],
    );
    assert.deepEqual([lines[1]!.status, lines[1]!.error], [400, 'odd number of components in label string "/a"']);
    assert.equal(json.status, 1);
    const clean = await where("/metrics/job/where/instance/c");
    assert.equal(clean.status, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /copies: none\n$/);
    const unreachable = await run(["--dyshard-url", "http://127.0.0.1:1", "/metrics/job/x"]);
    assert.equal(unreachable.status, 2);
    assert.match(unreachable.stderr, /cannot ask http:\/\/127\.0\.0\.1:1: connection refused/);
    const notDyshard = await run(["--dyshard-url", pgs[0]!.url, "/metrics/job/x"]);
    assert.equal(notDyshard.status, 2);
    assert.match(notDyshard.stderr, /has no \/-\/dyshard\/group \(answered 404\)/);
  });

  it("an instance killed is named in the answer's errors, the copies of the others still shown", async () => {
    const { owner, standby } = slotsOf("a");
    await pgs[standby]!.kill();
    const l = await lookup("/metrics/job/where/instance/a");
    assert.deepEqual(
      l.errors.map((e) => e.upstream),
      [pgs[standby]!.url],
    );
    assert.ok(l.copies.some((c) => c.upstream === pgs[owner]!.url && c.role === "primary"));
    assert.ok(l.copies.every((c) => c.upstream !== pgs[standby]!.url));
  });
});
