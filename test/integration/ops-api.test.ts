// The Pushgateway's API through dyshard, over real Pushgateways: GET /api/v1/metrics merged from
// every instance (standby copies left out, each group naming its instance), GET /api/v1/status,
// PUT /api/v1/admin/wipe (403 unless --enable-admin-api); an instance that is down, or hangs past
// the deadline, is named in the answer's errors, never silently missing.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { routingKey } from "../../src/pushgateway/grouping-key.js";
import type { App } from "../../src/runtime/single-process.js";
import { spawnReadyWorkers, startDyshard, type DyshardProcess } from "../support/dyshard.js";
import { waitFor } from "../support/ports.js";
import { inParallel, push } from "../support/push.js";
import { startPushgateways, stopAll, type Pushgateway, type PushgatewayGroup } from "../support/pushgateway.js";
import { freeze, thaw } from "../support/freeze.js";

interface Merged {
  status: string;
  data: (PushgatewayGroup & { dyshard_upstream: string })[];
  errors: { upstream: string; error: string }[];
}

const getJson = async <T>(url: string) => {
  const res = await fetch(url, { headers: { connection: "close" } });
  return { status: res.status, body: (await res.json()) as T };
};
const ids = Array.from({ length: 40 }, (_, i) => i);
const pushAll = (base: string) =>
  inParallel(ids, 8, (i) => push(base, `/metrics/job/ops/instance/i${i}`, `v ${i}\n`).then((r) => assert.equal(r.status, 200, r.text)));

describe("the Pushgateway API through dyshard", () => {
  let pgs: Pushgateway[];
  let app: App;
  let admin: App | undefined;
  before(async () => {
    pgs = await startPushgateways(3, ["--web.enable-admin-api"]);
    app = await startDyshard(
      pgs.map((p) => p.url),
      { replicas: "2", rebalanceInterval: "0", upstreamTimeout: "1s" },
    );
    await pushAll(app.url);
  });
  after(async () => {
    await admin?.stop();
    await app?.stop();
    await stopAll(pgs ?? []);
  });

  it("GET /api/v1/metrics: every group once, in the Pushgateway's shape, named by the instance that holds it; no standby copy", async () => {
    const { status, body } = await getJson<Merged>(`${app.url}/api/v1/metrics`);
    assert.equal(status, 200);
    assert.equal(body.status, "success");
    assert.deepEqual(body.errors, []);
    assert.equal(body.data.length, ids.length, "40 groups, their 40 standby copies left out");
    const held = await Promise.all(pgs.map((p) => p.groups()));
    for (const g of body.data) {
      assert.equal(g.labels.dyshard_replica, undefined);
      const slot = pgs.findIndex((p) => p.url === g.dyshard_upstream);
      assert.equal(slot, app.membership.ring.owner(routingKey({ job: "ops", labels: { instance: g.labels.instance! } })));
      // The group exactly as that instance shows it, one field added.
      const { dyshard_upstream: _u, ...own } = g;
      assert.deepEqual(
        own,
        held[slot]!.find((h) => h.labels.instance === g.labels.instance && !h.labels.dyshard_replica),
      );
    }
  });

  it("GET /api/v1/status: dyshard's build, settings and start time, and each instance's own status", async () => {
    const { status, body } = await getJson<{
      status: string;
      data: {
        build_information: { version: string };
        flags: Record<string, string>;
        start_time: string;
        upstreams: Record<string, unknown>[];
      };
      errors: unknown[];
    }>(`${app.url}/api/v1/status`);
    assert.equal(status, 200);
    assert.equal(body.status, "success");
    assert.match(body.data.build_information.version, /^\d+\.\d+\.\d+/);
    assert.equal(body.data.flags.replicas, "2");
    assert.equal(body.data.flags["enable-admin-api"], "false");
    assert.ok(!Number.isNaN(Date.parse(body.data.start_time)));
    assert.deepEqual(
      body.data.upstreams.map((u) => [u.upstream, (u.status as { build_information: { version: string } }).build_information.version]),
      pgs.map((p) => [p.url, "1.5.1"]),
    );
    assert.deepEqual(body.errors, []);
  });

  it("PUT /api/v1/admin/wipe: 403 without --enable-admin-api, nothing wiped; other methods get the Pushgateway's 405", async () => {
    const res = await fetch(`${app.url}/api/v1/admin/wipe`, { method: "PUT" });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /--enable-admin-api/);
    const get = await fetch(`${app.url}/api/v1/admin/wipe`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "OPTIONS, PUT");
    const held = await Promise.all(pgs.map((p) => p.groups()));
    assert.equal(held.flat().length, 2 * ids.length, "every primary and standby copy still there");
  });

  it("PUT /api/v1/admin/wipe with --enable-admin-api: 202 once every instance is empty", async () => {
    admin = await startDyshard(
      pgs.map((p) => p.url),
      { enableAdminApi: true, rebalanceInterval: "0" },
    );
    const res = await fetch(`${admin.url}/api/v1/admin/wipe`, { method: "PUT" });
    assert.equal(res.status, 202);
    assert.deepEqual((await Promise.all(pgs.map((p) => p.groups()))).flat(), []);
    await pushAll(app.url);
  });

  it("an instance that hangs past the deadline is named as timed out, and the answer comes within it", async () => {
    await freeze(pgs[1]!.pid!);
    try {
      const t0 = performance.now();
      const { status, body } = await getJson<Merged>(`${app.url}/api/v1/metrics`);
      const ms = performance.now() - t0;
      process.stdout.write(
        `# /api/v1/metrics with one of 3 instances stopped (SIGSTOP), deadline 1000 ms: answered in ${ms.toFixed(0)} ms, it named as ${JSON.stringify(body.errors[0]?.error)}\n`,
      );
      assert.equal(status, 200);
      assert.deepEqual(
        body.errors.map((e) => e.upstream),
        [pgs[1]!.url],
      );
      assert.match(body.errors[0]!.error, /timed out after 1000ms|not asked: marked unhealthy/);
      assert.ok(ms < 2500, `answered in ${ms.toFixed(0)} ms, bound 2500 ms (deadline 1000 ms)`);
      assert.ok(body.data.every((g) => g.dyshard_upstream !== pgs[1]!.url));
    } finally {
      await thaw(pgs[1]!.pid!);
    }
    await waitFor("slot 1 healthy again", async () => app.membership.healthyCount() === 3);
  });

  it("an instance killed is named in /api/v1/metrics, /api/v1/status and the wipe's answer, before and after it is marked down", async () => {
    await pgs[2]!.kill();
    const url = pgs[2]!.url;
    const check = async () => {
      const merged = await getJson<Merged>(`${app.url}/api/v1/metrics`);
      assert.equal(merged.status, 200);
      assert.deepEqual(
        merged.body.errors.map((e) => e.upstream),
        [url],
      );
      assert.ok(merged.body.data.length > 0 && merged.body.data.every((g) => g.dyshard_upstream !== url));
      const st = await getJson<{ data: { upstreams: { upstream: string; error?: string }[] }; errors: { upstream: string }[] }>(
        `${app.url}/api/v1/status`,
      );
      assert.deepEqual(
        st.body.errors.map((e) => e.upstream),
        [url],
      );
      assert.ok(st.body.data.upstreams.find((u) => u.upstream === url)?.error);
      const wipe = await fetch(`${admin!.url}/api/v1/admin/wipe`, { method: "PUT" });
      assert.equal(wipe.status, 502);
      const answer = (await wipe.json()) as { wiped: string[]; errors: { upstream: string; error: string }[] };
      assert.deepEqual(answer.wiped.sort(), [pgs[0]!.url, pgs[1]!.url].sort());
      assert.deepEqual(
        answer.errors.map((e) => e.upstream),
        [url],
      );
      return merged.body.errors[0]!.error;
    };
    const fresh = await check();
    await waitFor("slot 2 marked down", async () => app.membership.healthyCount() === 2 && admin!.membership.healthyCount() === 2);
    await pushAll(app.url);
    const down = await check();
    process.stdout.write(`# killed instance named as: ${JSON.stringify(fresh)}, then ${JSON.stringify(down)}\n`);
    assert.match(down, /^not asked: marked unhealthy/);
  });
});

describe("the Pushgateway API under --workers 2", () => {
  let pgs: Pushgateway[];
  let d: DyshardProcess;
  before(async () => {
    pgs = await startPushgateways(2);
    d = await spawnReadyWorkers(
      pgs.map((p) => p.url),
      2,
    );
  });
  after(async () => {
    await d?.stop("SIGKILL");
    await stopAll(pgs ?? []);
  });

  it("every worker answers GET /api/v1/metrics from its mirrored membership, the same merged groups", async () => {
    await pushAll(d.url);
    const answers = await Promise.all(Array.from({ length: 8 }, () => getJson<Merged>(`${d.url}/api/v1/metrics`)));
    for (const { status, body } of answers) {
      assert.equal(status, 200);
      assert.deepEqual(body.errors, []);
      assert.equal(body.data.length, ids.length);
      assert.deepEqual(new Set(body.data.map((g) => g.dyshard_upstream)), new Set(pgs.map((p) => p.url)));
    }
  });
});
