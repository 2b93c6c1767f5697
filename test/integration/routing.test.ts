// Routing over three real Pushgateways: spread, one owner per group, failover under load, recovery.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { App } from "../../src/runtime/single-process.js";
import { startDyshard } from "../support/dyshard.js";
import { waitFor } from "../support/ports.js";
import { inParallel, placement, push } from "../support/push.js";
import { startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";

const groupPath = (i: number) => `/metrics/job/batch/instance/host-${i}`;
const groupId = (i: number) => JSON.stringify(Object.entries({ instance: `host-${i}`, job: "batch" }).sort());

describe("routing over three real Pushgateways", () => {
  let pgs: Pushgateway[];
  let app: App;
  before(async () => {
    pgs = await startPushgateways(3);
    app = await startDyshard(
      pgs.map((p) => p.url),
      { healthInterval: "200ms", healthRise: "2", healthFall: "2" },
    );
  });
  after(async () => {
    await app?.stop();
    await stopAll(pgs ?? []);
  });

  it("spreads 1,000 groups within ±15% of even, each on exactly one instance", async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => i);
    const statuses = await inParallel(ids, 20, (i) => push(app.url, groupPath(i), `spread_value ${i}\n`).then((r) => r.status));
    assert.deepEqual(new Set(statuses), new Set([200]));
    const where = await placement(pgs);
    const perInstance = [0, 0, 0];
    for (const i of ids) {
      const on = where.get(groupId(i));
      assert.equal(on?.length, 1, `group ${i} is on ${JSON.stringify(on)}`);
      perInstance[on![0]!]! += 1;
    }
    for (const n of perInstance) assert.ok(Math.abs(n - 1000 / 3) <= 0.15 * (1000 / 3), `spread ${perInstance}`);
    process.stdout.write(`# spread of 1000 groups over 3 instances: ${perInstance.join(" / ")}\n`);
  });

  it("loses no push when an instance is SIGKILLed under load, moves only its groups, and takes them back on recovery", async () => {
    const ids = Array.from({ length: 300 }, (_, i) => i);
    const ownerBefore = new Map<number, number>();
    const where0 = await placement(pgs);
    for (const i of ids) ownerBefore.set(i, where0.get(groupId(i))![0]!);
    const victim = 1;

    let failed = 0;
    let sent = 0;
    const rounds = 6;
    for (let round = 0; round < rounds; round++) {
      const loop = inParallel(ids, 10, async (i) => {
        const r = await push(app.url, groupPath(i), `round ${round}\n`);
        sent++;
        if (r.status !== 200) failed++;
      });
      if (round === 1) {
        await new Promise((r) => setTimeout(r, 20));
        await pgs[victim]!.kill("SIGKILL");
      }
      await loop;
    }
    process.stdout.write(`# SIGKILL under load: ${failed} failed of ${sent} pushes\n`);
    assert.equal(failed, 0);
    assert.equal(app.membership.members[victim]!.healthy, false);

    // Survivors hold their own groups still, plus the victim's: nothing moved between survivors.
    const survivors = [pgs[0]!, pgs[2]!];
    const whereAfter = await placement(survivors);
    for (const i of ids) {
      const on = whereAfter.get(groupId(i)) ?? [];
      const before = ownerBefore.get(i)!;
      if (before !== victim)
        assert.deepEqual(
          on.map((x) => (x === 0 ? 0 : 2)),
          [before],
          `group ${i} moved off healthy instance ${before}`,
        );
      else assert.equal(on.length, 1, `victim's group ${i} should have one new home`);
    }

    // Recovery: the instance comes back (empty); once healthy its groups route to it again.
    await pgs[victim]!.restart();
    await waitFor("the victim to rejoin the ring", async () => app.membership.members[victim]!.healthy, 10_000);
    const afterRecovery = await inParallel(ids, 10, (i) => push(app.url, groupPath(i), "recovered 1\n").then((r) => r.status));
    assert.deepEqual(new Set(afterRecovery), new Set([200]));
    const back = new Set((await pgs[victim]!.groups()).map((g) => g.labels.instance));
    const expected = new Set(ids.filter((i) => ownerBefore.get(i) === victim).map((i) => `host-${i}`));
    assert.deepEqual(back, expected);
  });
});
