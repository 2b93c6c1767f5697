// The Consul emulator, driven through the real npm `consul` client (2.x), as dyshard uses it.
// Every wait is bounded; timings use loopback only.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import Consul from "consul";
import { ConsulEmulator, formatGoDuration, parseGoDuration, type ConsulEmulatorOptions } from "../support/consul-emulator.js";
import { waitFor } from "../support/ports.js";

type Client = InstanceType<typeof Consul>;
type Watch = ReturnType<Client["watch"]>;
type ClientError = Error & { statusCode?: number; code?: string; isValidation?: boolean };

interface HealthEntry {
  Node: Record<string, unknown>;
  Service: { ID: string; Service: string; Tags: string[]; Address: string; Port: number; Meta: Record<string, string> };
  Checks: { Node: string; CheckID: string; Name: string; Status: string; Output: string; ServiceID: string; ServiceName: string }[];
}

/** An emulator and a client on it, both closed after `fn`. */
async function withConsul(opts: ConsulEmulatorOptions, fn: (emu: ConsulEmulator, consul: Client) => Promise<void>): Promise<void> {
  const emu = await ConsulEmulator.start(opts);
  const consul = new Consul({ host: "127.0.0.1", port: emu.port });
  try {
    await fn(emu, consul);
  } finally {
    consul.destroy();
    await emu.stop();
  }
}

async function rejection(p: Promise<unknown>): Promise<ClientError> {
  try {
    await p;
  } catch (err) {
    return err as ClientError;
  }
  assert.fail("expected a rejection");
}

/** Collects a watch's events; `ended()` resolves on "end". */
function record(w: Watch): { changes: HealthEntry[][]; errors: ClientError[] } {
  const out = { changes: [] as HealthEntry[][], errors: [] as ClientError[] };
  w.on("change", (data: HealthEntry[]) => out.changes.push(data));
  w.on("error", (err: ClientError) => out.errors.push(err));
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const pg = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: "pg",
  address: "127.0.0.1",
  port: 9091,
  tags: ["shard"],
  meta: { dyshard_slot: id.slice(-1) },
  check: { ttl: "30s", status: "passing" },
  ...extra,
});

describe("ConsulEmulator through the npm consul client", () => {
  it("registers and deregisters services; an unknown ID is a 404; bad checks are a 400", async () => {
    await withConsul({}, async (emu, consul) => {
      await consul.agent.service.register(pg("pg-1") as never);
      const services = (await consul.agent.service.list()) as unknown as Record<string, Record<string, unknown>>;
      assert.deepEqual(Object.keys(services), ["pg-1"]);
      const s = services["pg-1"] as Record<string, unknown>;
      assert.deepEqual(
        [s.ID, s.Service, s.Tags, s.Address, s.Port, s.Meta],
        ["pg-1", "pg", ["shard"], "127.0.0.1", 9091, { dyshard_slot: "1" }],
      );
      const checks = (await consul.agent.check.list()) as unknown as Record<string, Record<string, unknown>>;
      assert.deepEqual(Object.keys(checks), ["service:pg-1"]);
      assert.equal(checks["service:pg-1"]?.Status, "passing");
      assert.equal(checks["service:pg-1"]?.ServiceID, "pg-1");
      assert.equal(checks["service:pg-1"]?.Type, "ttl");
      assert.equal(emu.services().length, 1);

      // Default check IDs: service:<id> for a lone check, service:<id>:<n> for several (as Consul's agent).
      await consul.agent.service.register({ id: "multi", name: "m", checks: [{ ttl: "30s" }, { ttl: "30s", name: "second" }] } as never);
      await consul.agent.service.register({ id: "single", name: "m", checks: [{ ttl: "30s" }] } as never);
      assert.deepEqual(
        emu.services().flatMap((x) => x.Checks.map((c) => `${c.CheckID}=${c.Status}`)),
        ["service:multi:1=critical", "service:multi:2=critical", "service:pg-1=passing", "service:single=critical"],
      );

      await consul.agent.service.deregister("pg-1");
      assert.deepEqual(Object.keys((await consul.agent.service.list()) as object), ["multi", "single"]);
      assert.ok(!("service:pg-1" in ((await consul.agent.check.list()) as object)));
      const err = await rejection(consul.agent.service.deregister("pg-1"));
      assert.equal(err.statusCode, 404);

      // The client refuses an HTTP check without interval itself; the emulator answers 400 as Consul.
      assert.ok(
        (await rejection(consul.agent.service.register({ name: "x", check: { http: "http://127.0.0.1:1/" } } as never))).isValidation,
      );
      const res = await fetch(`${emu.url}/v1/agent/service/register`, {
        method: "PUT",
        body: JSON.stringify({ Name: "x", Check: { HTTP: "http://127.0.0.1:1/" } }),
      });
      assert.equal(res.status, 400);
      assert.match(await res.text(), /Interval must be > 0/);
      assert.equal(
        (await fetch(`${emu.url}/v1/agent/service/register`, { method: "PUT", body: JSON.stringify({ ID: "nameless" }) })).status,
        400,
      );
      assert.equal((await fetch(`${emu.url}/v1/agent/services`, { method: "PUT" })).status, 405);
    });
  });

  it("leaves an identical re-registration alone and applies a changed one", async () => {
    await withConsul({}, async (emu, consul) => {
      const def = pg("pg-1", { check: { ttl: "30s" } });
      await consul.agent.service.register(def as never);
      assert.equal(emu.check("service:pg-1")?.Status, "critical");
      await consul.agent.check.pass("service:pg-1");
      assert.equal(emu.check("service:pg-1")?.Status, "passing");
      const before = emu.index;

      await consul.agent.service.register(def as never);
      assert.equal(emu.index, before, "an identical registration bumps nothing");
      assert.equal(emu.check("service:pg-1")?.Status, "passing", "and keeps the check's status");

      await consul.agent.service.register({ ...def, tags: ["shard", "v2"] } as never);
      assert.ok(emu.index > before, "a changed definition bumps the index");
      assert.deepEqual(emu.services()[0]?.Tags, ["shard", "v2"]);
      assert.equal(emu.check("service:pg-1")?.Status, "passing", "a check under the same ID keeps its status");
    });
  });

  it("answers health.service in Consul's shape, with passing, tag and unknown services", async () => {
    await withConsul({}, async (emu, consul) => {
      await consul.agent.service.register(pg("pg-2", { tags: ["a"] }) as never);
      await consul.agent.service.register(pg("pg-1", { tags: ["a", "b"] }) as never);
      await consul.agent.service.register({ id: "other", name: "other", port: 1, check: { ttl: "30s" } } as never);

      const entries = (await consul.health.service("pg")) as HealthEntry[];
      assert.deepEqual(
        entries.map((e) => e.Service.ID),
        ["pg-1", "pg-2"],
        "sorted by service ID",
      );
      const e = entries[0] as HealthEntry;
      assert.deepEqual(Object.keys(e).sort(), ["Checks", "Node", "Service"]);
      for (const k of ["ID", "Node", "Address", "Datacenter", "Meta"]) assert.ok(k in e.Node, `Node.${k}`);
      assert.deepEqual([e.Node.Node, e.Node.Address, e.Node.Datacenter, e.Node.Meta], ["emulator", "127.0.0.1", "dc1", {}]);
      assert.deepEqual(
        {
          ID: e.Service.ID,
          Service: e.Service.Service,
          Tags: e.Service.Tags,
          Address: e.Service.Address,
          Port: e.Service.Port,
          Meta: e.Service.Meta,
        },
        { ID: "pg-1", Service: "pg", Tags: ["a", "b"], Address: "127.0.0.1", Port: 9091, Meta: { dyshard_slot: "1" } },
      );
      assert.deepEqual(
        e.Checks.map((c) => [c.CheckID, c.Status, c.ServiceID, c.ServiceName, c.Node]),
        [
          ["serfHealth", "passing", "", "", "emulator"],
          ["service:pg-1", "passing", "pg-1", "pg", "emulator"],
        ],
      );

      emu.setCheckStatus("service:pg-2", "warning");
      const passing = (await consul.health.service({ service: "pg", passing: true })) as HealthEntry[];
      assert.deepEqual(
        passing.map((x) => x.Service.ID),
        ["pg-1"],
        "passing drops warning too",
      );
      const tagged = (await consul.health.service({ service: "pg", tag: ["a", "b"] } as never)) as HealthEntry[];
      assert.deepEqual(
        tagged.map((x) => x.Service.ID),
        ["pg-1"],
        "repeated tags all apply",
      );
      assert.deepEqual(await consul.health.service("nope"), []);
      const filtered = (await consul.health.service({ service: "pg", filter: 'Service.Meta.dyshard_slot == "2"' })) as HealthEntry[];
      assert.deepEqual(
        filtered.map((x) => x.Service.ID),
        ["pg-2"],
      );

      emu.setNodeHealth("critical");
      assert.deepEqual(await consul.health.service({ service: "pg", passing: true }), []);
      emu.setNodeHealth("passing");

      const res = await fetch(`${emu.url}/v1/health/service/pg?stale`);
      assert.ok(Number(res.headers.get("x-consul-index")) >= 1);
      assert.equal(res.headers.get("x-consul-knownleader"), "true");
      assert.equal(res.headers.get("x-consul-lastcontact"), "0");
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
      assert.equal((await fetch(`${emu.url}/v1/health/service/pg?dc=dc9`)).status, 500);

      assert.deepEqual(await consul.catalog.service.list(), { consul: [], other: [], pg: ["a", "b"] });
      const self = (await consul.agent.self()) as { Config: { Datacenter: string; NodeName: string } };
      assert.deepEqual([self.Config.Datacenter, self.Config.NodeName], ["dc1", "emulator"]);
    });
  });

  it("lets a consul.watch on health.service see a check change well within its wait", async () => {
    await withConsul({}, async (emu, consul) => {
      await consul.agent.service.register(pg("pg-1") as never);
      const watch = consul.watch({ method: consul.health.service, options: { service: "pg", wait: "2s" } });
      const ev = record(watch);
      try {
        await waitFor("the first answer", async () => ev.changes.length === 1, 2000, 10);
        assert.equal(ev.changes[0]?.[0]?.Checks[1]?.Status, "passing");
        await sleep(100); // the watch is now blocked on index=<current>
        const t0 = Date.now();
        emu.setCheckStatus("service:pg-1", "critical");
        await waitFor("the change", async () => ev.changes.length === 2, 1500, 5);
        assert.ok(Date.now() - t0 < 1000, `seen after ${Date.now() - t0}ms`);
        assert.equal(ev.changes[1]?.[0]?.Checks[1]?.Status, "critical");
        assert.deepEqual(ev.errors, []);
        // Its requests: index=0 first, then the last index, always with the wait.
        const health = emu.requests.filter((r) => r.path === "/v1/health/service/pg");
        assert.match(health[0]?.query ?? "", /(^|&)index=0(&|$)/);
        assert.match(health[1]?.query ?? "", /(^|&)wait=2s(&|$)/);
      } finally {
        watch.end();
      }
    });
  });

  it("holds a blocking query until wait runs out when nothing of its own changes", async () => {
    await withConsul({}, async (emu, consul) => {
      await consul.agent.service.register(pg("pg-1") as never);
      const index = emu.index;

      let t0 = Date.now();
      await consul.health.service({ service: "pg", index: String(index), wait: "1s" } as never);
      const held = Date.now() - t0;
      assert.ok(held >= 950 && held < 1400, `held ${held}ms for wait=1s`);

      // Changes elsewhere (another service, KV) do not wake it; the ms form of wait works.
      t0 = Date.now();
      const pending = fetch(`${emu.url}/v1/health/service/pg?index=${index}&wait=600ms`);
      await sleep(50);
      await consul.agent.service.register({ name: "elsewhere", check: { ttl: "30s" } } as never);
      await consul.kv.set("some/key", "v");
      const res = await pending;
      const held2 = Date.now() - t0;
      assert.ok(held2 >= 580 && held2 < 1000, `held ${held2}ms for wait=600ms`);
      assert.equal(res.headers.get("x-consul-index"), String(index), "same index: no change for pg");
      assert.ok(emu.index > index);

      // index=0 answers at once; a change of its own wakes it at once.
      t0 = Date.now();
      await fetch(`${emu.url}/v1/health/service/pg?index=0&wait=5s`);
      assert.ok(Date.now() - t0 < 200);
      t0 = Date.now();
      const woken = fetch(`${emu.url}/v1/health/service/pg?index=${index}&wait=5s`);
      await sleep(50);
      emu.setCheckStatus("service:pg-1", "warning");
      const woke = await woken;
      assert.ok(Date.now() - t0 < 500);
      assert.ok(Number(woke.headers.get("x-consul-index")) > index);
      assert.equal((await fetch(`${emu.url}/v1/health/service/pg?index=1&wait=soon`)).status, 400);
      assert.deepEqual(
        [parseGoDuration("10s"), parseGoDuration("5m"), parseGoDuration("120000ms"), parseGoDuration("1m30s"), parseGoDuration("10")],
        [10_000, 300_000, 120_000, 90_000, undefined],
      );
      assert.deepEqual(
        [formatGoDuration(200), formatGoDuration(10_000), formatGoDuration(90_000), formatGoDuration(3_600_000)],
        ["200ms", "10s", "1m30s", "1h0m0s"],
      );
    });
  });

  it("runs HTTP checks against a server flipping between 200, 500 and 429; setCheckStatus overrides", async () => {
    let code = 200;
    const probes: string[] = [];
    const target = http.createServer((req, res) => {
      probes.push(`${req.method} ${req.url}`);
      res.writeHead(code, { "Content-Type": "text/plain" }).end(`answer ${code}`);
    });
    await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}/-/healthy`;
    try {
      await withConsul({ minCheckIntervalMs: 100 }, async (emu, consul) => {
        const t0 = Date.now();
        await consul.agent.service.register({
          id: "pg-1",
          name: "pg",
          port: 1,
          check: { http: url, interval: "200ms", timeout: "500ms" },
        } as never);
        const status = () => emu.check("service:pg-1")?.Status;
        await waitFor("passing", async () => status() === "passing", 1000, 10);
        assert.ok(Date.now() - t0 < 190, "the first probe runs at once, not after an interval");
        assert.equal(probes[0], "GET /-/healthy");
        assert.match(emu.check("service:pg-1")?.Output ?? "", /200 OK Output: answer 200/);

        code = 500;
        await waitFor("critical", async () => status() === "critical", 1500, 20);
        assert.match(emu.check("service:pg-1")?.Output ?? "", /500/);
        code = 429;
        await waitFor("warning", async () => status() === "warning", 1500, 20);
        code = 200;
        await waitFor("passing again", async () => status() === "passing", 1500, 20);

        // Overridden: the runner stops (no probes), until runChecks resumes it.
        emu.setCheckStatus("service:pg-1", "critical");
        const n = probes.length;
        await sleep(500);
        assert.equal(status(), "critical");
        assert.ok(probes.length <= n + 1, "no probes while overridden (one may have been in flight)");
        await emu.runChecks("service:pg-1");
        assert.equal(status(), "passing");
        const entries = (await consul.health.service("pg")) as HealthEntry[];
        assert.equal(entries[0]?.Checks[1]?.Status, "passing");
      });
    } finally {
      target.closeAllConnections();
      await new Promise((r) => target.close(r));
    }
  });

  it("reaps a service critical for longer than DeregisterCriticalServiceAfter (1m minimum unless allowed)", async () => {
    await withConsul({ allowShortDeregister: true, reaperIntervalMs: 50 }, async (emu, consul) => {
      await consul.agent.service.register({
        id: "doomed",
        name: "pg",
        check: { ttl: "30s", deregistercriticalserviceafter: "300ms" },
      } as never);
      await consul.agent.service.register({
        id: "fine",
        name: "pg",
        check: { ttl: "30s", status: "passing", deregistercriticalserviceafter: "300ms" },
      } as never);
      await waitFor("the reaper", async () => emu.services().length === 1, 2000, 20);
      assert.deepEqual(
        emu.services().map((s) => s.ID),
        ["fine"],
      );
    });
    await withConsul({ reaperIntervalMs: 50 }, async (emu, consul) => {
      await consul.agent.service.register({
        id: "kept",
        name: "pg",
        check: { ttl: "30s", deregistercriticalserviceafter: "300ms" },
      } as never);
      await sleep(500);
      assert.deepEqual(emu.reapNow(), [], "300ms is raised to Consul's 1m minimum");
    });
  });

  it("gives one-leader-at-a-time locks with sessions, KV acquire/release, expiry and lock-delay", async () => {
    await withConsul({ allowShortSessionTtl: true, sessionTtlMultiplier: 1 }, async (emu, consul) => {
      const a = (await consul.session.create({ name: "dyshard-a", ttl: "1s", behavior: "release", lockdelay: "1s" })) as { ID: string };
      const b = (await consul.session.create({ name: "dyshard-b", ttl: "1s", behavior: "release", lockdelay: "1s" })) as { ID: string };
      assert.match(a.ID, /^[0-9a-f-]{36}$/);
      const renewA = setInterval(() => void consul.session.renew(a.ID).catch(() => {}), 250);
      try {
        const key = "dyshard/leader";
        assert.equal(await consul.kv.set({ key, value: "a", acquire: a.ID }), true);
        // papi resolves a JSON `false` body as undefined: the npm client's kv.set gives true or undefined.
        assert.equal(await consul.kv.set({ key, value: "b", acquire: b.ID }), undefined, "held by a");
        const raw = await fetch(`${emu.url}/v1/kv/${key}?acquire=${b.ID}`, { method: "PUT", body: "b" });
        assert.equal(await raw.text(), "false");
        const held = (await consul.kv.get(key)) as unknown as Record<string, unknown>;
        assert.deepEqual(
          { ...held, CreateIndex: 0, ModifyIndex: 0 },
          { Key: key, Value: "a", Session: a.ID, LockIndex: 1, Flags: 0, CreateIndex: 0, ModifyIndex: 0 },
        );
        assert.equal(await consul.kv.set({ key, value: "", release: a.ID }), true);
        assert.equal(((await consul.kv.get(key)) as unknown as Record<string, unknown>).Session, undefined);
        assert.equal(await consul.kv.set({ key, value: "b", acquire: b.ID }), true, "a release is not an invalidation: no lock-delay");
        const byB = (await consul.kv.get(key)) as unknown as Record<string, unknown>;
        assert.equal(byB.LockIndex, 2);

        const renewed = (await consul.session.renew(a.ID)) as { ID: string; TTL: string }[];
        assert.deepEqual([renewed[0]?.ID, renewed[0]?.TTL], [a.ID, "1s"]);
        assert.equal((await rejection(consul.session.renew("00000000-0000-0000-0000-000000000000"))).statusCode, 404);

        // b is not renewed: it expires, its lock is released, and lock-delay keeps a out for 1s.
        // A blocking KV read sees the release.
        const t0 = Date.now();
        const released = (await consul.kv.get({ key, index: String(byB.ModifyIndex), wait: "3s" } as never)) as unknown as Record<
          string,
          unknown
        >;
        assert.equal(released.Session, undefined);
        assert.ok(Date.now() - t0 < 1500, `released after ${Date.now() - t0}ms`);
        assert.equal(await consul.session.info(b.ID), undefined, "b is gone");
        assert.notEqual(await consul.kv.set({ key, value: "a", acquire: a.ID }), true, "lock-delay after an expiry");
        await waitFor("the lock-delay to pass", async () => (await consul.kv.set({ key, value: "a", acquire: a.ID })) === true, 2000, 100);
        assert.equal(emu.kvEntry(key)?.Session, a.ID);

        // Behavior delete: destroying the session deletes the key.
        const c = (await consul.session.create({ behavior: "delete", ttl: "10s", lockdelay: "0s" })) as { ID: string };
        assert.equal(await consul.kv.set({ key: "dyshard/ephemeral", value: "x", acquire: c.ID }), true);
        await consul.session.destroy(c.ID);
        assert.equal(await consul.kv.get("dyshard/ephemeral"), undefined);

        // The node's serfHealth going critical invalidates its sessions, and none can be created.
        emu.setNodeHealth("critical");
        assert.equal(emu.kvEntry(key)?.Session, undefined);
        assert.equal((await rejection(consul.session.create({ ttl: "10s" }))).statusCode, 500);
        emu.setNodeHealth("passing");
      } finally {
        clearInterval(renewA);
      }
    });
    // Defaults follow Consul: TTL at least 10s, and a session lives up to 2×TTL.
    await withConsul({}, async (emu, consul) => {
      assert.equal((await rejection(consul.session.create({ ttl: "1s" }))).statusCode, 400);
      const t0 = Date.now();
      const s = (await consul.session.create({ ttl: "10s" })) as { ID: string };
      const expiresIn = (emu.sessions().find((x) => x.ID === s.ID)?.expiresAt ?? 0) - t0;
      assert.ok(expiresIn >= 19_900 && expiresIn <= 20_500, `expires in ${expiresIn}ms`);
    });
  });

  it("pause() refuses connections and cuts blocking queries; resume() serves the same state on the same port", async () => {
    await withConsul({}, async (emu, consul) => {
      await consul.agent.service.register(pg("pg-1") as never);
      const port = emu.port;
      const index = emu.index;
      const watch = consul.watch({
        method: consul.health.service,
        options: { service: "pg", wait: "5s" },
        backoffFactor: 20,
        backoffMax: 100,
      });
      const ev = record(watch);
      try {
        await waitFor("the first answer", async () => ev.changes.length === 1, 2000, 10);
        const blocked = fetch(`${emu.url}/v1/health/service/pg?index=${index}&wait=5s`).then(
          () => "answered",
          () => "cut",
        );
        await sleep(50);
        await emu.pause();
        assert.equal(await blocked, "cut");
        const err = await rejection(consul.agent.service.list());
        assert.equal(err.code, "ECONNREFUSED", err.message);
        await waitFor("the watch to report errors", async () => ev.errors.length >= 2, 2000, 10);

        await emu.resume();
        assert.equal(emu.port, port);
        assert.deepEqual(Object.keys((await consul.agent.service.list()) as object), ["pg-1"]);
        assert.equal(emu.index, index);
        // The watch recovers by itself and sees the next change.
        emu.setCheckStatus("service:pg-1", "critical");
        await waitFor("the watch to recover", async () => ev.changes.some((c) => c[0]?.Checks[1]?.Status === "critical"), 2000, 10);
      } finally {
        watch.end();
      }
    });
  });

  it("failNext(n, status) answers errors to the next n requests, then recovers", async () => {
    await withConsul({}, async (emu, consul) => {
      await consul.agent.service.register(pg("pg-1") as never);
      emu.failNext(2, 503);
      const e1 = await rejection(consul.agent.service.list());
      assert.equal(e1.statusCode, 503);
      assert.match(e1.message, /emulated failure/);
      assert.equal((await rejection(consul.health.service("pg"))).statusCode, 503);
      assert.equal(((await consul.health.service("pg")) as HealthEntry[]).length, 1);
      emu.failNext(1);
      assert.equal((await rejection(consul.catalog.service.list())).statusCode, 500);
      assert.deepEqual(
        emu.requests.filter((r) => r.status !== undefined && r.status >= 500).map((r) => `${r.method} ${r.path} ${r.status}`),
        ["GET /v1/agent/services 503", "GET /v1/health/service/pg 503", "GET /v1/catalog/services 500"],
      );
      assert.equal(emu.requestCount("GET", "/v1/health/service/*"), 2);

      // A watch reports the error and retries.
      emu.failNext(1, 500);
      const watch = consul.watch({ method: consul.health.service, options: { service: "pg", wait: "2s" }, backoffFactor: 10 });
      const ev = record(watch);
      try {
        await waitFor("error then answer", async () => ev.errors.length === 1 && ev.changes.length === 1, 2000, 10);
        assert.equal(ev.errors[0]?.statusCode, 500);
      } finally {
        watch.end();
      }
    });
  });
});
