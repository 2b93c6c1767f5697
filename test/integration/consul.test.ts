// Consul mode over real Pushgateways and the Consul emulator: registration, health following,
// Consul outages, and several dyshards agreeing on one ring.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { App } from "../../src/runtime/single-process.js";
import { ConsulEmulator } from "../support/consul-emulator.js";
import { spawnDyshard, startDyshard } from "../support/dyshard.js";
import { waitFor } from "../support/ports.js";
import { inParallel, placement, push } from "../support/push.js";
import { startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";

const groupPath = (i: number) => `/metrics/job/nightly/instance/host-${i}`;
const groupId = (i: number) => JSON.stringify(Object.entries({ instance: `host-${i}`, job: "nightly" }).sort());

describe("Consul mode", () => {
  let pgs: Pushgateway[];
  let consul: ConsulEmulator;
  let app: App;
  const consulFlags = () => ({
    discovery: "consul",
    consulAddress: consul.url,
    consulWait: "2s",
    consulRegister: true,
    consulCheckInterval: "1s",
    consulCheckTimeout: "500ms",
  });

  before(async () => {
    [pgs, consul] = await Promise.all([startPushgateways(3), ConsulEmulator.start({ minCheckIntervalMs: 100 })]);
    app = await startDyshard(
      pgs.map((p) => p.url),
      consulFlags(),
    );
    await waitFor("all three passing in Consul", async () => app.membership.healthyCount() === 3);
  });
  after(async () => {
    await app?.stop();
    await consul?.stop();
    await stopAll(pgs ?? []);
  });

  it("registers each Pushgateway once, with its slot and an HTTP check, and dyshard itself", async () => {
    await waitFor("dyshard's own check to pass", async () =>
      consul.services().some((s) => s.Service === "dyshard" && s.Checks[0]?.Status === "passing"),
    );
    const services = consul.services();
    const pgServices = services.filter((s) => s.Service === "pushgateway");
    assert.deepEqual(
      pgServices.map((s) => s.ID),
      ["pushgateway-slot-0", "pushgateway-slot-1", "pushgateway-slot-2"],
    );
    pgServices.forEach((s, i) => {
      assert.equal(s.Meta.dyshard_slot, String(i));
      assert.equal(`http://${s.Address}:${s.Port}`, pgs[i]!.url);
      assert.equal(s.Checks.length, 1);
      assert.equal(s.Checks[0]!.Status, "passing");
    });
    const self = services.filter((s) => s.Service === "dyshard");
    assert.equal(self.length, 1);
    assert.equal(self[0]!.Checks[0]!.Status, "passing", "dyshard's own /-/ready check passes");
  });

  it("--consul-register run again (a restart, or a second dyshard) changes nothing in Consul", async () => {
    const indexBefore = consul.index;
    const registersBefore = consul.requestCount("PUT", "/v1/agent/service/register");
    const twin = await spawnDyshard([
      "--discovery",
      "consul",
      "--consul-address",
      consul.url,
      "--consul-register",
      "--consul-check-interval",
      "1s",
      "--consul-check-timeout",
      "500ms",
      "--consul-advertise",
      "127.0.0.1:1",
      ...pgs.flatMap((p) => ["--upstream", p.url]),
    ]);
    try {
      // The twin registers only itself (its own advertise address); the Pushgateways are untouched.
      await waitFor("the twin's own registration", async () => consul.services().some((s) => s.ID === "dyshard-127.0.0.1-1"));
      await new Promise((r) => setTimeout(r, 300)); // room for any further (unwanted) registration
      assert.equal(consul.requestCount("PUT", "/v1/agent/service/register") - registersBefore, 1);
      assert.equal(consul.services().filter((s) => s.Service === "pushgateway").length, 3);
      assert.ok(consul.services().every((s) => s.Service !== "pushgateway" || s.Checks[0]!.Status === "passing"));
    } finally {
      assert.equal(await twin.stop("SIGTERM"), 0);
    }
    // ...and on shutdown it deregistered itself, and only itself.
    assert.deepEqual(consul.services().filter((s) => s.Service === "dyshard").length, 1);
    assert.equal(consul.services().filter((s) => s.Service === "pushgateway").length, 3);
    assert.ok(consul.index > indexBefore);
  });

  it("moves a critical instance's groups to the others and back when it passes again; measures the delay", async () => {
    const ids = Array.from({ length: 300 }, (_, i) => i);
    await inParallel(ids, 10, (i) => push(app.url, groupPath(i), "v 1\n"));
    const before = await placement(pgs);
    const victim = 2;
    const victimGroups = ids.filter((i) => before.get(groupId(i))?.[0] === victim);
    assert.ok(victimGroups.length > 50);

    const t0 = performance.now();
    consul.setCheckStatus("service:pushgateway-slot-2", "critical", "test: made critical");
    await waitFor("the ring to drop slot 2", async () => !app.membership.members[victim]!.healthy, 5000, 2);
    const downMs = performance.now() - t0;
    for (const i of ids) {
      const owner = app.membership.owner(`{instance="host-${i}",job="nightly"}`)!;
      if (victimGroups.includes(i)) assert.notEqual(owner.slot, victim);
      else assert.equal(owner.slot, before.get(groupId(i))![0], `group ${i} moved off a healthy instance`);
    }
    await inParallel(ids, 10, (i) => push(app.url, groupPath(i), "v 2\n"));
    // The critical instance got none of the new values: they went to the survivors.
    const valueOf = (g: { [k: string]: unknown }) => (g.v as { metrics: { value: string }[] }).metrics[0]!.value;
    const onVictim = (await pgs[victim]!.groups()).filter((g) => g.labels.job === "nightly");
    assert.equal(onVictim.length, victimGroups.length);
    assert.ok(onVictim.every((g) => valueOf(g) === "1"));
    const survivors = [...(await pgs[0]!.groups()), ...(await pgs[1]!.groups())].filter((g) => g.labels.job === "nightly");
    assert.equal(survivors.filter((g) => valueOf(g) === "2").length, ids.length);

    const t1 = performance.now();
    await consul.runChecks("service:pushgateway-slot-2");
    await waitFor("the ring to take slot 2 back", async () => app.membership.members[victim]!.healthy, 5000, 2);
    const upMs = performance.now() - t1;
    for (const i of victimGroups) assert.equal(app.membership.owner(`{instance="host-${i}",job="nightly"}`)!.slot, victim);
    process.stdout.write(`# Consul health change to ring: down ${downMs.toFixed(1)} ms, up ${upMs.toFixed(1)} ms\n`);
  });

  it("keeps routing on the last membership while Consul is down, counting errors, and follows it again after", async () => {
    const ringBefore = JSON.stringify(app.membership.ring.slots);
    const ownersBefore = Array.from({ length: 200 }, (_, i) => app.membership.owner(`{instance="host-${i}",job="nightly"}`)!.slot);
    await consul.pause();
    try {
      await new Promise((r) => setTimeout(r, 2500)); // longer than a blocking query's wait
      const statuses = await inParallel(
        Array.from({ length: 200 }, (_, i) => i),
        10,
        (i) => push(app.url, groupPath(i), "v 3\n").then((r) => r.status),
      );
      assert.deepEqual(new Set(statuses), new Set([200]));
      assert.equal(JSON.stringify(app.membership.ring.slots), ringBefore);
      assert.deepEqual(
        Array.from({ length: 200 }, (_, i) => app.membership.owner(`{instance="host-${i}",job="nightly"}`)!.slot),
        ownersBefore,
      );
      const text = await (await fetch(`${app.url}/metrics`)).text();
      assert.match(text, /dyshard_discovery_errors_total [1-9]/);
    } finally {
      await consul.resume();
    }
    const last = () =>
      fetch(`${app.url}/metrics`)
        .then((r) => r.text())
        .then((t) => Number(/^dyshard_discovery_last_success_timestamp_seconds (\S+)$/m.exec(t)![1]));
    const pausedAt = Date.now() / 1000;
    consul.setCheckStatus("service:pushgateway-slot-0", "critical");
    await waitFor("the ring to follow Consul again", async () => !app.membership.members[0]!.healthy, 10_000);
    const lastSuccess = await last();
    assert.ok(lastSuccess >= pausedAt, `last success ${lastSuccess} is before ${pausedAt}`);
    await consul.runChecks("service:pushgateway-slot-0");
    await waitFor("slot 0 back", async () => app.membership.members[0]!.healthy, 10_000);
  });

  it("fails over on a refused connection before Consul notices, and answers 503 at once when every instance is critical", async () => {
    await pgs[1]!.kill();
    const ids = Array.from({ length: 100 }, (_, i) => i);
    const statuses = await inParallel(ids, 10, (i) => push(app.url, groupPath(i), "v 4\n").then((r) => r.status));
    assert.deepEqual(new Set(statuses), new Set([200]));
    await pgs[1]!.restart();
    await waitFor("slot 1 back", async () => app.membership.members[1]!.healthy, 10_000);

    for (let s = 0; s < 3; s++) consul.setCheckStatus(`service:pushgateway-slot-${s}`, "critical");
    await waitFor("no healthy member", async () => app.membership.healthyCount() === 0);
    const t = performance.now();
    const r = await push(app.url, groupPath(1), "v 5\n");
    assert.equal(r.status, 503);
    assert.match(r.text, /no healthy upstream/);
    assert.ok(performance.now() - t < 1000, "answered at once");
    assert.equal((await fetch(`${app.url}/-/ready`)).status, 503);
    for (let s = 0; s < 3; s++) await consul.runChecks(`service:pushgateway-slot-${s}`);
    await waitFor("all back", async () => app.membership.healthyCount() === 3);
  });

  it("two dyshard processes following one Consul route each of 1,000 groups to the same instance", async () => {
    const follow = ["--discovery", "consul", "--consul-address", consul.url, "--consul-wait", "2s"];
    const [a, b] = await Promise.all([spawnDyshard(follow), spawnDyshard(follow)]);
    try {
      const paths = Array.from({ length: 1000 }, (_, i) => `/metrics/job/agree/instance/h${i}`);
      const answer = async (base: string) => {
        const res = await fetch(`${base}/-/dyshard/ring`);
        return (await res.json()) as { healthy_members: number };
      };
      await waitFor(
        "both see three healthy members",
        async () => (await answer(a.url)).healthy_members === 3 && (await answer(b.url)).healthy_members === 3,
      );
      // Push half through each: every group must land on one instance, the same whoever routed it.
      await inParallel(paths, 20, (p) => push(a.url, p, "x 1\n"));
      await inParallel(paths, 20, (p) => push(b.url, p, "x 2\n"));
      const where = await placement(pgs);
      for (let i = 0; i < 1000; i++) {
        const on = where.get(JSON.stringify(Object.entries({ instance: `h${i}`, job: "agree" }).sort()));
        assert.equal(on?.length, 1, `group h${i} is on ${JSON.stringify(on)}`);
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
