// --replicas 2 end to end, with real Pushgateways and dyshard as users run it: 500 groups pushed
// once; an instance SIGKILLed and restarted empty on its port (its disk lost), then a second: every
// group is still there, once, as a primary on its owner with its pushed value, and has its standby
// copy again. A push loop runs across the first kill: no push fails. The same with --workers 2, and
// with two dyshards sharing the Pushgateways (the handover's waits allow for their slower runs: IPC
// for every chunk's hold, or two dyshards' sweeps crossing).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { routingKey } from "../../src/pushgateway/grouping-key.js";
import { loadHash64, type Hash64 } from "../../src/routing/hash.js";
import { Ring, type SlotState } from "../../src/routing/ring.js";
import { spawnDyshard, type DyshardProcess } from "../support/dyshard.js";
import { waitFor } from "../support/ports.js";
import { inParallel, push } from "../support/push.js";
import { familyValue, startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";

const GROUPS = 500;
const FLAGS = ["--replicas", "2", "--health-interval", "200ms", "--health-fall", "2", "--health-rise", "1"];
const HANDOVER = ["--rebalance-settle", "300ms", "--rebalance-interval", "2s"];

interface Copy {
  slot: number;
  standby: boolean;
  value: string | undefined;
}

/** Every copy of every e2e group on the live Pushgateways, by instance label. */
async function inventory(pgs: Pushgateway[], job: string): Promise<Map<string, Copy[]>> {
  const out = new Map<string, Copy[]>();
  await Promise.all(
    pgs.map(async (pg, slot) => {
      const groups = await pg.groups().catch(() => []);
      for (const g of groups) {
        if (g.labels.job !== job) continue;
        const copy = { slot, standby: g.labels.dyshard_replica === "1", value: familyValue(g, "e2e_value") };
        out.set(g.labels.instance as string, [...(out.get(g.labels.instance as string) ?? []), copy]);
      }
    }),
  );
  return out;
}

/** What is wrong with the copies on the current ring; all zero when every group is in place. */
function check(copies: Map<string, Copy[]>, ring: Ring, job: string, values: Map<string, string>) {
  const tally = { lost: 0, wrongValue: 0, notOnOwner: 0, noStandby: 0, extra: 0 };
  for (const [instance, value] of values) {
    const [owner, standby] = ring.owners(routingKey({ job, labels: { instance } }), 2);
    const list = copies.get(instance) ?? [];
    const primaries = list.filter((c) => !c.standby);
    if (list.length === 0) tally.lost++;
    else if (!primaries.some((c) => c.slot === owner)) tally.notOnOwner++;
    else if (primaries.find((c) => c.slot === owner)?.value !== value) tally.wrongValue++;
    if (standby !== undefined && !list.some((c) => c.standby && c.slot === standby && c.value === value)) tally.noStandby++;
    tally.extra += list.filter((c) => !((!c.standby && c.slot === owner) || (c.standby && c.slot === standby))).length;
  }
  return tally;
}

const inPlace = (t: ReturnType<typeof check>) => Object.values(t).every((n) => n === 0);

async function ringOf(base: string, h64: Hash64): Promise<Ring> {
  const view = (await (await fetch(`${base}/-/dyshard/ring`)).json()) as { slots: { state: SlotState }[] };
  return new Ring(
    view.slots.map((s) => s.state),
    h64,
  );
}

describe("--replicas 2: no group lost when instances die with their disks", () => {
  let h64: Hash64;
  let pgs: Pushgateway[];
  before(async () => {
    h64 = await loadHash64();
    pgs = await startPushgateways(3);
  });
  after(async () => stopAll(pgs ?? []));

  const scenarios: { name: string; fronts: number; groups: number; extra: string[] }[] = [
    { name: "one dyshard", fronts: 1, groups: GROUPS, extra: [] },
    { name: "--workers 2", fronts: 1, groups: GROUPS, extra: ["--workers", "2"] },
    { name: "two dyshards", fronts: 2, groups: GROUPS, extra: [] },
  ];
  for (const [n, scenario] of scenarios.entries()) {
    it(`${scenario.name}: ${scenario.groups} groups survive losing one instance, then a second; no push fails across a kill`, async () => {
      const job = `e2e${n}`;
      const fronts: DyshardProcess[] = [];
      try {
        for (let f = 0; f < scenario.fronts; f++)
          fronts.push(await spawnDyshard([...FLAGS, ...HANDOVER, ...scenario.extra, ...pgs.flatMap((p) => ["--upstream", p.url])]));
        const base = (i: number) => fronts[i % fronts.length]!.url;
        const values = new Map<string, string>();
        const instances = Array.from({ length: scenario.groups }, (_, i) => `g${i}`);
        await inParallel(instances, 16, async (instance) => {
          const i = Number(instance.slice(1));
          const res = await push(base(i), `/metrics/job/${job}/instance/${instance}`, `e2e_value ${i}\n`);
          assert.equal(res.status, 200, res.text);
          values.set(instance, String(i));
        });
        const settled = async (what: string) => {
          const t0 = performance.now();
          let last: ReturnType<typeof check> | undefined;
          await waitFor(
            what,
            async () => inPlace((last = check(await inventory(pgs, job), await ringOf(base(0), h64), job, values))),
            60_000,
            200,
          ).catch((err: Error) => {
            throw new Error(`${err.message}: ${JSON.stringify(last)}`);
          });
          return performance.now() - t0;
        };
        await settled("every group and its standby copy in place after the pushes");

        const lose = async (victim: number, loop: boolean) => {
          let failed = 0;
          let pushed = 0;
          let stop = false;
          const loopDone = loop
            ? (async () => {
                for (let i = 0; !stop; i++) {
                  const res = await push(base(i), `/metrics/job/${job}-loop/instance/l${i % 50}`, `e2e_value ${i}\n`).catch(() => ({
                    status: 0,
                  }));
                  pushed++;
                  if (res.status !== 200) failed++;
                }
              })()
            : Promise.resolve();
          // The loop stops whatever happens: a failed wait left it pushing to stopped fronts forever.
          let promotedMs: number, backMs: number;
          try {
            await pgs[victim]!.kill();
            await waitFor("the instance seen down", async () => !(await ringOf(base(0), h64)).healthySlots.includes(victim), 10_000, 100);
            promotedMs = await settled(`every group a primary on a live owner, slot ${victim} down`);
            await pgs[victim]!.restart(); // empty: persistence is off
            await waitFor("the instance seen up", async () => (await ringOf(base(0), h64)).healthySlots.includes(victim), 10_000, 100);
            backMs = await settled(`every group in place again, slot ${victim} back empty`);
          } finally {
            stop = true;
            await loopDone;
          }
          return { downToInPlaceMs: promotedMs, backMs, pushed, failed };
        };
        const first = await lose(0, true);
        const second = await lose(1, false);
        const final = check(await inventory(pgs, job), await ringOf(base(0), h64), job, values);
        process.stdout.write(
          `# ${scenario.name}: slot 0 lost: every group a primary on a live owner ${first.downToInPlaceMs.toFixed(0)} ms after it was seen down, ` +
            `all in place ${first.backMs.toFixed(0)} ms after it was seen back; push loop ${first.pushed} pushes, ${first.failed} failed\n` +
            `# ${scenario.name}: slot 1 lost: ${second.downToInPlaceMs.toFixed(0)} ms / ${second.backMs.toFixed(0)} ms; groups lost ${final.lost} of ${scenario.groups}, ${JSON.stringify(final)}\n`,
        );
        assert.equal(first.failed, 0, "no push failed across the kill");
        assert.ok(first.pushed > 10, `the loop pushed ${first.pushed} times`);
        assert.deepEqual(final, { lost: 0, wrongValue: 0, notOnOwner: 0, noStandby: 0, extra: 0 });
      } finally {
        await Promise.all(fronts.map((f) => f.stop()));
        for (const pg of pgs)
          if (
            !(await fetch(`${pg.url}/-/ready`).then(
              (r) => r.ok,
              () => false,
            ))
          )
            await pg.restart();
      }
    });
  }
});
