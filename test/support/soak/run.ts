// One chaos soak (`npm run soak`, and the short one in test/integration/soak.test.ts): pushers run
// for the set time while the chaos driver does its faults; then everything comes back, the
// handover settles, and the pushes, the failures and every group's copies are judged.
import { routingKey } from "../../../src/pushgateway/grouping-key.js";
import { loadHash64 } from "../../../src/routing/hash.js";
import { Ring, type SlotState } from "../../../src/routing/ring.js";
import { DuplicatePoller } from "../poller.js";
import { familyValue } from "../pushgateway.js";
import { Chaos, sleep } from "./chaos.js";
import { SoakCluster } from "./cluster.js";
import { JOB, METRIC, Pushers } from "./pushers.js";
import { RssSampler } from "./rss.js";
import { soakFigures, type SoakResult } from "./report.js";
import { judgePlacement, type Copy } from "./verdict.js";

export interface SoakOptions {
  seconds: number;
  replicas: number;
  seed: number;
  groups: number;
  clients: number;
  /** Progress lines (the faults as they happen). */
  log?: (line: string) => void;
}

/** Chaos-free time at the start (every group pushed) and before the end. */
const WARM_UP_MS = 2000;
const QUIET_MS = 1000;

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const cluster = await SoakCluster.start(o.replicas);
  try {
    const poller = new DuplicatePoller(cluster.pgs, JOB).start(100);
    const rss = new RssSampler(() => cluster.rss()).start(250);
    const pushers = new Pushers(cluster.url, o.groups, o.clients).start();
    const startedMs = Date.now();
    // dyshard's heap grows to the load's size over the first tens of seconds, then stays (a 150 s
    // soak: flat from 35 s on): RSS is measured from half the run in, or 30 s in a longer one.
    const rssStart = setTimeout(() => rss.markStart(), Math.max(WARM_UP_MS, Math.min(o.seconds * 500, 30_000)));
    await sleep(WARM_UP_MS);
    const trace = setInterval(() => void memoryLine(cluster, rss).then((line) => o.log?.(line)), 5000);
    const chaos = new Chaos(cluster, o.seed, o.log).start(startedMs + o.seconds * 1000 - QUIET_MS);
    await chaos.done();
    clearInterval(trace);
    clearTimeout(rssStart);
    await sleep(Math.max(QUIET_MS, startedMs + o.seconds * 1000 - Date.now()));
    await pushers.stop();
    const pushedSeconds = (Date.now() - startedMs) / 1000;
    await cluster.settle(30_000);
    await poller.stop();
    const copies = await inventory(cluster);
    const ring = await ringOf(cluster.url);
    const owners = (g: number) => ring.owners(routingKey({ job: JOB, labels: { instance: `g${g}` } }), o.replicas);
    const placement = judgePlacement(pushers.records, copies, owners, chaos.losses);
    const moves = await cluster.metrics([
      "dyshard_handover_groups_copied_total",
      "dyshard_handover_groups_promoted_total",
      "dyshard_handover_groups_replicated_total",
      'dyshard_handover_groups_deleted_total{via="sweep"}',
      'dyshard_handover_groups_deleted_total{via="push"}',
      "dyshard_handover_groups_failed_total",
      "dyshard_handover_runs_total",
    ]);
    rss.markEnd(await cluster.rss());
    await rss.stop();
    return soakFigures({
      options: o,
      chaos,
      records: pushers.records,
      placement,
      moves,
      poller,
      rss,
      upstreams: cluster.pgs.map((p) => p.url),
      pushedSeconds,
      dyshardLog: cluster.dyshard.output(),
    });
  } finally {
    await cluster.stop();
  }
}

/** Every copy of every soak group on the instances, by group number. */
async function inventory(cluster: SoakCluster): Promise<Map<number, Copy[]>> {
  const out = new Map<number, Copy[]>();
  const all = await Promise.all(cluster.pgs.map((pg) => pg.groups()));
  all.forEach((groups, slot) => {
    for (const g of groups) {
      if (g.labels.job !== JOB) continue;
      const group = Number(g.labels.instance?.slice(1));
      const copy = { slot, standby: g.labels.dyshard_replica === "1", value: Number(familyValue(g, METRIC)) };
      out.set(group, [...(out.get(group) ?? []), copy]);
    }
  });
  return out;
}

async function ringOf(url: string): Promise<Ring> {
  const view = (await (await fetch(`${url}/-/dyshard/ring`)).json()) as { slots: { state: SlotState }[] };
  return new Ring(
    view.slots.map((s) => s.state),
    await loadHash64(),
  );
}

/** dyshard's memory as its own process metrics tell it, beside the RSS. */
async function memoryLine(cluster: SoakCluster, rss: RssSampler): Promise<string> {
  const m = await cluster
    .metrics(["nodejs_heap_size_used_bytes", "nodejs_heap_size_total_bytes", "nodejs_external_memory_bytes"])
    .catch(() => ({}));
  const mib = (n: number | undefined) => `${((n ?? NaN) / 1048576).toFixed(1)} MiB`;
  const get = (k: string) => (m as Record<string, number>)[k];
  return `dyshard RSS ${mib(rss.lastBytes)}, heap used ${mib(get("nodejs_heap_size_used_bytes"))} of ${mib(get("nodejs_heap_size_total_bytes"))}, external ${mib(get("nodejs_external_memory_bytes"))}`;
}
