// (f) Two dyshards sharing a Consul: only the holder of the handover lock runs the handover, and
// the other takes over when the holder is killed.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { routingKey } from "../../src/pushgateway/grouping-key.js";
import { loadHash64 } from "../../src/routing/hash.js";
import { Ring } from "../../src/routing/ring.js";
import { ConsulEmulator } from "../support/consul-emulator.js";
import { spawnDyshard, type DyshardProcess } from "../support/dyshard.js";
import { waitFor } from "../support/ports.js";
import { push } from "../support/push.js";
import { startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";

const LOCK_KEY = "dyshard/handover/pushgateway";

describe("handover with two dyshards and Consul", () => {
  let pgs: Pushgateway[];
  let consul: ConsulEmulator;
  let procs: DyshardProcess[] = [];

  before(async () => {
    [pgs, consul] = await Promise.all([
      startPushgateways(3),
      ConsulEmulator.start({ allowShortSessionTtl: true, sessionTtlMultiplier: 1, minCheckIntervalMs: 100 }),
    ]);
    const args = [
      "--discovery",
      "consul",
      "--consul-address",
      consul.url,
      "--consul-wait",
      "2s",
      "--consul-register",
      "--consul-check-interval",
      "500ms",
      "--rebalance-interval",
      "300ms",
      "--rebalance-settle",
      "200ms",
      "--rebalance-lock-ttl",
      "2s",
      ...pgs.flatMap((p) => ["--upstream", p.url]),
    ];
    procs = await Promise.all([spawnDyshard(args), spawnDyshard(args)]);
    const healthy = async (p: DyshardProcess) =>
      ((await (await fetch(`${p.url}/-/dyshard/ring`)).json()) as { healthy_members: number }).healthy_members === 3;
    await waitFor("both dyshards see three healthy Pushgateways", async () => (await healthy(procs[0]!)) && (await healthy(procs[1]!)));
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop("SIGKILL")));
    await consul?.stop();
    await stopAll(pgs ?? []);
  });

  const lastRun = async (p: DyshardProcess) =>
    Number(/^dyshard_handover_last_run_timestamp_seconds (\S+)$/m.exec(await (await fetch(`${p.url}/metrics`)).text())![1]);
  const holderPid = () => {
    const session = consul.kvEntry(LOCK_KEY)?.Session;
    const name = consul.sessions().find((s) => s.ID === session)?.Name ?? "";
    return Number(/:(\d+)$/.exec(name)?.[1]);
  };
  /** Pushes a group straight to an instance that does not own it, as a dyshard with another view would. */
  const stray = async (name: string) => {
    const h64 = await loadHash64();
    const owner = new Ring(["healthy", "healthy", "healthy"], h64).owner(routingKey({ job: "stray", labels: { instance: name } }))!;
    const wrong = (owner + 1) % 3;
    assert.equal((await push(pgs[wrong]!.url, `/metrics/job/stray/instance/${name}`, "v 1\n")).status, 200);
    return { owner, wrong };
  };
  const placedOn = async (name: string) =>
    (await Promise.all(pgs.map((p) => p.groups()))).flatMap((gs, i) => (gs.some((g) => g.labels.instance === name) ? [i] : []));

  it("runs the handover on one dyshard only, and the other takes over when it is killed", async () => {
    await waitFor("a dyshard to hold the handover lock", async () => procs.some((p) => p.proc.pid === holderPid()));
    const holder = procs.find((p) => p.proc.pid === holderPid())!;
    const other = procs.find((p) => p !== holder)!;

    const first = await stray("s1");
    await waitFor(
      "the holder to move the stray group",
      async () => JSON.stringify(await placedOn("s1")) === JSON.stringify([first.owner]),
      10_000,
    );
    await new Promise((r) => setTimeout(r, 1000)); // several sweep periods
    assert.ok((await lastRun(holder)) > 0, "the holder ran the handover");
    assert.equal(await lastRun(other), 0, "the other dyshard never ran it");

    await holder.stop("SIGKILL");
    const killedAt = performance.now();
    const second = await stray("s2");
    await waitFor("the other dyshard to take the lock", async () => holderPid() === other.proc.pid, 15_000);
    await waitFor(
      "the other dyshard to move the stray group",
      async () => JSON.stringify(await placedOn("s2")) === JSON.stringify([second.owner]),
      10_000,
    );
    process.stdout.write(
      `# handover lock taken over ${(performance.now() - killedAt).toFixed(0)} ms after the holder was killed (session TTL 2s)\n`,
    );
    assert.ok((await lastRun(other)) > 0);
  });
});
