// The whole loop as a user sees it: three Pushgateways behind dyshard, one real Prometheus scraping
// them through /-/dyshard/sd, a gauge pushed +1 through dyshard all along while its owner is
// SIGKILLed, brought back empty, and the handover leaves one copy. A query_range over the whole
// window must show the value never going backwards (two Pushgateways holding the group, an older
// copy scraped after a newer one: docs/facts/seed-002-hashmod-sharding.txt, docs/facts/prometheus.md
// "Staleness"), no long gap, and, after the handover, one series, scraped from the owner only.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { routingKey } from "../../src/pushgateway/grouping-key.js";
import { startDyshard } from "../support/dyshard.js";
import { waitFor } from "../support/ports.js";
import { Prometheus } from "../support/prometheus.js";
import { push } from "../support/push.js";
import { startPushgateways, stopAll, type Pushgateway, type PushgatewayGroup } from "../support/pushgateway.js";
import { checkSeries } from "../support/series-check.js";

const JOB = "prom_loop";
const METRIC = "prom_loop_value";
const PUSH_EVERY_MS = 250;
const SCRAPE_S = 0.5;
const STEP_S = 0.1;
/**
 * The longest stretch without a value we accept. When the owner dies its next scrape fails and
 * marks the series stale at once; the value is back at the survivor's first scrape after the first
 * push that failed over: one push interval + one scrape interval (0.75 s). The first value, and the
 * owner's after the survivor's copy is deleted (its scrape marks the series stale), take at most
 * one scrape interval. Plus one scrape interval of slack for a late scrape on a loaded machine.
 */
const MAX_GAP_S = 1.5;

type App = Awaited<ReturnType<typeof startDyshard>>;

/**
 * Two jobs over the same targets: `pushgateway` is the config of README "Wiring Prometheus"
 * (honor_labels, no label of the target's own, so copies on two Pushgateways are one series: what
 * must never go backwards); `by-pushgateway` also labels each series with the slot it was scraped
 * from, a label only this test adds, so that a second copy shows as a second series.
 */
function scrapeConfig(sdUrl: string): string {
  const job = (name: string, relabel: string[]) => [
    `  - job_name: ${name}`,
    "    honor_labels: true",
    "    http_sd_configs:",
    `      - url: ${JSON.stringify(sdUrl)}`,
    "        refresh_interval: 1s",
    ...relabel,
  ];
  return [
    `global: { scrape_interval: ${SCRAPE_S * 1000}ms, scrape_timeout: 400ms, evaluation_interval: 1s }`,
    "scrape_configs:",
    ...job("pushgateway", []),
    ...job("by-pushgateway", ["    relabel_configs:", "      - { source_labels: [__meta_dyshard_slot], target_label: dyshard_slot }"]),
    "",
  ].join("\n");
}

/** Pushes value 1, 2, 3, ... through dyshard every PUSH_EVERY_MS until stopped; every answer is kept. */
class Pusher {
  last = 0;
  readonly statuses = new Map<number, number>();
  firstAtS = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly base: string) {}

  start(): void {
    this.firstAtS = Date.now() / 1000;
    this.loop = (async () => {
      while (!this.stopped) {
        const value = this.last + 1;
        const res = await push(this.base, `/metrics/job/${JOB}`, `# TYPE ${METRIC} gauge\n${METRIC} ${value}\n`).catch(() => ({
          status: 0,
        }));
        this.statuses.set(res.status, (this.statuses.get(res.status) ?? 0) + 1);
        if (res.status === 200) this.last = value;
        await new Promise((r) => setTimeout(r, PUSH_EVERY_MS));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

const valueOf = (g: PushgatewayGroup) => Number((g[METRIC] as { metrics: { value: string }[] }).metrics[0]!.value);

/** The slots holding the group, with the value each holds. */
async function copies(pgs: Pushgateway[]): Promise<{ slot: number; value: number }[]> {
  const all = await Promise.all(pgs.map((p) => p.groups().catch(() => [])));
  return all.flatMap((groups, slot) => groups.filter((g) => g.labels.job === JOB).map((g) => ({ slot, value: valueOf(g) })));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outage {
  owner: number;
  t0: number;
  converged: boolean;
  oneCopyAtS: number;
  endS: number;
  timeline: string[];
}

/** Pushes all along; SIGKILLs the group's owner, brings it back empty, waits for one copy on it. */
async function outage(app: App, pgs: Pushgateway[], pusher: Pusher): Promise<Outage> {
  const owner = app.membership.owner(routingKey({ job: JOB, labels: {} }))!.slot;
  pusher.start();
  const t0 = pusher.firstAtS;
  const since = () => `+${(Date.now() / 1000 - t0).toFixed(1)}s`;
  const timeline: string[] = [];
  await sleep(3000);
  await pgs[owner]!.kill("SIGKILL");
  timeline.push(`owner slot ${owner} SIGKILLed at ${since()}`);
  await sleep(4000);
  timeline.push(`during the outage on slot ${(await copies(pgs)).map((c) => c.slot).join(",") || "none"}`);
  await pgs[owner]!.restart();
  timeline.push(`back empty at ${since()}`);
  const oneCopy = async () => {
    const c = await copies(pgs);
    return c.length === 1 && c[0]!.slot === owner && c[0]!.value >= pusher.last - 1;
  };
  const converged = await waitFor("one copy, on the owner", oneCopy, 10_000, 50).then(
    () => true,
    () => false,
  );
  const oneCopyAtS = Date.now() / 1000;
  timeline.push(converged ? `one copy at ${since()}` : `still not one copy at ${since()}`);
  await sleep(3000);
  await pusher.stop();
  await sleep(SCRAPE_S * 2000); // the last value scraped
  return { owner, t0, converged, oneCopyAtS, endS: Date.now() / 1000, timeline };
}

describe("Prometheus through a SIGKILL and an empty restart (query_range over the whole window)", () => {
  let pgs: Pushgateway[];
  let app: App;
  let prom: Prometheus | undefined;
  before(async () => {
    pgs = await startPushgateways(3);
    app = await startDyshard(
      pgs.map((p) => p.url),
      { rebalanceInterval: "0", rebalanceSettle: "500ms", healthInterval: "200ms", healthRise: "1", healthFall: "1" },
    );
    prom = await Prometheus.start(scrapeConfig(`${app.url}/-/dyshard/sd`));
  });
  after(async () => {
    await app?.stop();
    await prom?.remove();
    await stopAll(pgs ?? []);
  });

  it("the value never goes backwards, no gap over MAX_GAP_S, and after the handover one series, on the owner only", async () => {
    await waitFor(
      "all 6 targets (3 per job) up",
      async () => (await prom!.activeTargets()).filter((t) => t.health === "up").length === 6,
      20_000,
      100,
    );
    const pusher = new Pusher(app.url);
    const { owner, t0, converged, oneCopyAtS, endS, timeline } = await outage(app, pgs, pusher);

    // As the user's scrape config stores it: what a graph shows (query_range), and every stored sample.
    const user = `${METRIC}{job="${JOB}",dyshard_slot=""}`;
    const shown = await prom!.queryRange(user, t0, endS, STEP_S);
    const graph = checkSeries(shown[0]?.values ?? [], t0, endS, STEP_S);
    const stored = checkSeries((await prom!.samples(user, t0, endS))[0]?.values ?? [], t0, endS, SCRAPE_S);
    const bySlot = await prom!.queryRange(`${METRIC}{dyshard_slot!=""}`, t0, endS, STEP_S);
    const afterHandover = await prom!.queryRange(`${METRIC}{dyshard_slot!=""}`, oneCopyAtS + 2 * SCRAPE_S, endS, STEP_S);
    const finalCopies = await copies(pgs);
    const deleted = (await (await fetch(`${app.url}/metrics`)).text()).match(/^dyshard_handover_groups_deleted_total\{.*$/gm) ?? [];

    const first = (c: typeof graph) =>
      c.decreases.length ? ` (first at +${(c.decreases[0]!.atS - t0).toFixed(1)}s: ${c.decreases[0]!.from} -> ${c.decreases[0]!.to})` : "";
    const slots = (ss: typeof bySlot) => ss.map((s) => s.metric.dyshard_slot).join(",") || "none";
    process.stdout.write(
      [
        `# timeline: ${timeline.join("; ")}; ${pusher.last} pushes acknowledged, answers ${JSON.stringify(Object.fromEntries(pusher.statuses))}`,
        `# query_range over ${(endS - t0).toFixed(1)}s, step ${STEP_S}s: ${graph.points} points, min ${graph.min}, max ${graph.max} (last pushed ${pusher.last}), decreases ${graph.decreases.length}${first(graph)}`,
        `# stored samples: ${stored.points}, decreases ${stored.decreases.length}${first(stored)}; longest gap in the graph ${graph.longestGapS.toFixed(2)}s at +${(graph.longestGapAtS - t0).toFixed(1)}s (bound ${MAX_GAP_S}s)`,
        `# series: ${shown.length} as the user scrapes; by Pushgateway over the window: slots ${slots(bySlot)}; after the handover: ${afterHandover.length} (slot ${slots(afterHandover)}), owner slot ${owner}`,
        `# Pushgateways at the end: ${JSON.stringify(finalCopies)}; ${deleted.join(", ")}`,
        "",
      ].join("\n"),
    );

    assert.deepEqual([...pusher.statuses.keys()], [200], "every push through dyshard answered 200, also while the owner was down");
    assert.deepEqual(graph.decreases, [], "the graph never goes backwards");
    assert.deepEqual(stored.decreases, [], "no stored sample is older than the one before it");
    assert.ok(graph.longestGapS <= MAX_GAP_S, `longest gap ${graph.longestGapS}s, bound ${MAX_GAP_S}s`);
    assert.equal(graph.max, pusher.last, "the last pushed value reached Prometheus");
    assert.equal(shown.length, 1, "one series as the user's scrape config stores it");
    assert.deepEqual(
      afterHandover.map((s) => s.metric.dyshard_slot),
      [String(owner)],
      "after the handover one series, from the owner",
    );
    assert.ok(converged, "one copy, on the owner, within 10 s of its return");
    assert.deepEqual(finalCopies, [{ slot: owner, value: pusher.last }], "each Pushgateway's /api/v1/metrics: the group on the owner only");
  });
});
