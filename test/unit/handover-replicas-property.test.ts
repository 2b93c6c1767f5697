// The handover plan with standby copies over random copy sets: 1,000 cases each with R = 2 and
// R = 3 over 4 slots (some down, so fewer owners than R), copies of either kind on any healthy
// slot with random push times and samples. Each plan is applied to a simulated store as the
// executor applies it (writes first, a Pushgateway stamping each write later than any push, then
// deletes) and must leave every group with its newest samples as the primary on its owner and
// as a standby copy on each standby slot, and no other copy; before any delete, the copies that
// replace it must already hold those samples; and planning again finds nothing to do.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { planHandover, type GroupCopy, type HandoverStep } from "../../src/handover/plan.js";
import { prng } from "../support/prng.js";

const SLOTS = 4;
type Kind = "primary" | "standby";
interface Held {
  time: number | undefined;
  data: string;
}
/** slot → kind → the copy there, for one group per case (groups are planned independently). */
type Store = Map<number, Map<Kind, Held>>;

const group = { job: "j", instance: "x" };
const labelsOf = (kind: Kind) => (kind === "standby" ? { ...group, dyshard_replica: "1" } : group);

interface Case {
  owners: number[];
  inventoried: Set<number>;
  store: Store;
  /** The samples the newest push carries: what every right place must end up holding. */
  newest: string;
}

function makeCase(rand: () => number, replicas: number): Case {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)] as T;
  const order = [0, 1, 2, 3].sort(() => rand() - 0.5);
  const healthy = order.slice(0, 1 + Math.floor(rand() * SLOTS));
  const store: Store = new Map(healthy.map((slot) => [slot, new Map()]));
  const times = Array.from({ length: 2 * SLOTS }, (_, i) => 10 * i + Math.floor(rand() * 10)).sort(() => rand() - 0.5);
  const made: Held[] = [];
  for (const slot of healthy)
    for (const kind of ["primary", "standby"] as Kind[]) {
      if (rand() < 0.5) continue;
      // Never pushed successfully: no samples. Otherwise fresh samples, or those of a copy already made (one push, two copies).
      const time = rand() < 0.1 ? undefined : times.pop();
      const data = time === undefined ? "none" : made.length && rand() < 0.4 ? pick(made).data : `d${made.length}`;
      const held = { time, data: time === undefined ? "none" : data };
      made.push(held);
      store.get(slot)!.set(kind, held);
    }
  if (made.length === 0) store.get(healthy[0]!)!.set("primary", { time: 5, data: "only" });
  const newestCopy = [...store.values()]
    .flatMap((m) => [...m.values()])
    .sort((a, b) => (b.time ?? -Infinity) - (a.time ?? -Infinity))[0] as Held;
  return { owners: healthy.slice(0, replicas), inventoried: new Set(healthy), store, newest: newestCopy.data };
}

function copiesOf(store: Store, inventoried: Set<number>): (GroupCopy & { data: string })[] {
  return [...store].flatMap(([slot, m]) =>
    inventoried.has(slot)
      ? [...m].map(([kind, h]) => ({
          slot,
          labels: labelsOf(kind),
          pushTime: h.time,
          families: h.data === "none" ? [] : ["m"],
          data: h.data,
        }))
      : [],
  );
}

function planFor(c: Case) {
  return planHandover({
    copies: copiesOf(c.store, c.inventoried),
    ownersOf: () => c.owners,
    inventoried: c.inventoried,
    sameData: (a, b) => (a as GroupCopy & { data: string }).data === (b as GroupCopy & { data: string }).data,
  });
}

/** Applies a step as the executor does; `clock` stamps writes as a Pushgateway does, later than any push. */
function apply(step: HandoverStep, c: Case, clock: { now: number }): void {
  const at = (slot: number) => c.store.get(slot) as Map<Kind, Held>;
  assert.notEqual(step.action, "leave", "every owner is inventoried here");
  assert.notEqual(step.action, "merge", "every copy here has the same families");
  const owner = step.owner as number;
  if (step.action === "copy") {
    const source = at(step.source).get(step.promote ? "standby" : "primary");
    assert.ok(source, `the source on slot ${step.source} exists`);
    at(owner).set("primary", { time: clock.now++, data: source.data });
  }
  const primary = at(owner).get("primary");
  for (const slot of step.replicate ?? []) at(slot).set("standby", { time: clock.now++, data: primary!.data });
  const deletes: [number, Kind][] = [
    ...step.from.map((s): [number, Kind] => [s, "primary"]),
    ...(step.standbyFrom ?? []).map((s): [number, Kind] => [s, "standby"]),
  ];
  for (const [slot, kind] of deletes) {
    assert.equal(
      at(owner).get("primary")?.data,
      c.newest,
      `before deleting the ${kind} on slot ${slot}, the owner holds the newest samples`,
    );
    if (kind === "standby")
      for (const s of step.standbys ?? []) assert.equal(at(s).get("standby")?.data, c.newest, `and standby slot ${s} holds them too`);
    at(slot).delete(kind);
  }
}

function run(replicas: number, cases: number, seed: number) {
  const figures = { cases, steps: 0, promotions: 0, copies: 0, replications: 0, deletes: 0 };
  const rand = prng(seed);
  for (let i = 0; i < cases; i++) {
    const c = makeCase(rand, replicas);
    const where = () => JSON.stringify({ case: i, seed, owners: c.owners, store: [...c.store].map(([s, m]) => [s, [...m]]) });
    const before = where();
    const clock = { now: 1000 };
    const plan = planFor(c);
    try {
      for (const step of plan.steps) {
        apply(step, c, clock);
        figures.steps++;
        if (step.action === "copy") figures[step.promote ? "promotions" : "copies"]++;
        figures.replications += step.replicate?.length ?? 0;
        figures.deletes += step.from.length + (step.standbyFrom?.length ?? 0);
      }
      const [owner, ...standbys] = c.owners as [number, ...number[]];
      for (const [slot, m] of c.store)
        for (const [kind, h] of m) {
          const right = kind === "primary" ? slot === owner : standbys.includes(slot);
          assert.ok(right, `a ${kind} is left on slot ${slot}`);
          assert.equal(h.data, c.newest, `the ${kind} on slot ${slot} holds the newest samples`);
        }
      assert.ok(c.store.get(owner)!.has("primary"), "the owner holds the primary");
      for (const slot of standbys) assert.ok(c.store.get(slot)!.has("standby"), `standby slot ${slot} holds the standby copy`);
      assert.deepEqual(planFor(c).steps, [], "planning again finds nothing to do");
    } catch (err) {
      throw new Error(`${(err as Error).message}\nbefore: ${before}\nplan: ${JSON.stringify(plan.steps)}\nafter: ${where()}`);
    }
  }
  return figures;
}

describe("planHandover over random copy sets", () => {
  for (const replicas of [2, 3]) {
    it(`R = ${replicas}: 1,000 cases converge in one run to the newest samples, in the right places only, nothing newer deleted first`, () => {
      const figures = run(replicas, 1000, 1200 + replicas);
      process.stdout.write(`# R = ${replicas}: ${JSON.stringify(figures)}\n`);
      assert.ok(figures.promotions > 50 && figures.replications > 200 && figures.deletes > 200, "the cases exercise every rule");
    });
  }

  it("a slot that could not be read is never written to nor deleted from, and stale standby copies wait for it", () => {
    const rand = prng(77);
    let checked = 0;
    for (let i = 0; i < 1000; i++) {
      const c = makeCase(rand, 3);
      const unread = c.owners[1 + Math.floor(rand() * (c.owners.length - 1))];
      if (unread === undefined) continue;
      c.inventoried.delete(unread);
      for (const step of planFor(c).steps) {
        const touched = [...step.from, ...(step.replicate ?? []), ...(step.standbyFrom ?? []), ...("source" in step ? [step.source] : [])];
        assert.ok(!touched.includes(unread), `case ${i}: ${JSON.stringify(step)} touches unread slot ${unread}`);
        assert.deepEqual(step.standbyFrom ?? [], [], `case ${i}: stale standby copies kept while a standby slot is unknown`);
      }
      checked++;
    }
    assert.ok(checked > 500, `${checked} cases`);
  });
});
