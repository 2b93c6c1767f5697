// The demo's Prometheus part (scripts/demo.ts): one real Prometheus scraping the Pushgateways
// through dyshard's http_sd (GET /-/dyshard/sd), then the story a newcomer wants to see: a pushed
// value answered by PromQL; the group's owner killed and the push still succeeding; the owner back
// empty and the handover leaving one copy, on the owner, which PromQL shows as one series.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { App } from "../src/runtime/single-process.js";
import { atStop, killOnPurpose, restartServer, sleep, startServer, type Server, type ServerSpec } from "./demo-processes.js";

export const PROMETHEUS_PORT = 9090;
const SCRAPE_EVERY = "1s";
const METRIC = "demo_records_processed";

/** What the story needs from the demo. */
export interface Stage {
  app: App;
  gateways: Server[];
  pushgatewaySpec: (name: string) => ServerSpec;
  /** PUT through dyshard; the status (0 when it failed), recorded as a problem unless 200. */
  push: (path: string, value: number) => Promise<number>;
  /** Where each example group is: its path and the slots holding it. */
  placement: () => Promise<{ path: string; labels: Record<string, string>; slots: number[] }[]>;
  /** The slot that owns the group of an example path now. */
  ownerOf: (path: string) => number | undefined;
  /** The group the story follows (one of the examples). */
  follow: { path: string; shown: string; labels: Record<string, string> };
  out: (line?: string) => void;
  problems: string[];
}

/**
 * The scrape config of README "Wiring Prometheus" (honor_labels: true, so the pushed job and labels
 * are kept and two copies of a group would be one series), plus, for the demo only, the slot each
 * series was scraped from (dyshard_slot), so that PromQL can show where the copy is.
 */
export function scrapeConfig(sdUrl: string): string {
  return [
    `global: { scrape_interval: ${SCRAPE_EVERY}, scrape_timeout: ${SCRAPE_EVERY} }`,
    "scrape_configs:",
    "  - job_name: pushgateway",
    "    honor_labels: true",
    "    http_sd_configs:",
    `      - { url: ${JSON.stringify(sdUrl)}, refresh_interval: 5s }`,
    "    relabel_configs:",
    "      - { source_labels: [__meta_dyshard_slot], target_label: dyshard_slot }",
    "",
  ].join("\n");
}

/** Starts Prometheus (on 9090 if free) with a scratch TSDB removed when the demo stops. */
export async function startPrometheus(bin: string, sdUrl: string): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), "dyshard-demo-prometheus-"));
  atStop(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "prometheus.yml"), scrapeConfig(sdUrl));
  return startServer({
    name: "prometheus",
    bin,
    args: (port) => [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    preferred: PROMETHEUS_PORT,
    readyPath: "/-/ready",
    readyWithinMs: 30_000,
  });
}

interface Answer {
  value: number;
  slot: string;
}

async function promql(prom: Server, query: string): Promise<Answer[]> {
  const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  return body.data.result.map((r) => ({ value: Number(r.value[1]), slot: r.metric.dyshard_slot ?? "none" }));
}

/** Polls PromQL until it shows exactly one series, from `slot`, with `value`; how long that took. */
async function untilOneSeries(prom: Server, query: string, slot: number, value: number, withinMs = 20_000): Promise<number> {
  const t0 = Date.now();
  let last: Answer[] = [];
  while (Date.now() - t0 < withinMs) {
    last = await promql(prom, query).catch(() => []);
    if (last.length === 1 && last[0]!.slot === String(slot) && last[0]!.value === value) return Date.now() - t0;
    await sleep(200);
  }
  throw new Error(
    `PromQL ${query} did not show one series from slot ${slot} = ${value} within ${withinMs / 1000}s (last: ${JSON.stringify(last)})`,
  );
}

async function until(what: string, check: () => boolean, withinMs: number): Promise<number> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > withinMs) throw new Error(`${what} did not happen within ${withinMs / 1000}s`);
    await sleep(100);
  }
  return Date.now() - t0;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The story, one short line a step; a failed step ends it with a problem the demo reports. */
export async function prometheusStory(stage: Stage, prom: Server): Promise<void> {
  const { app, gateways, out, follow } = stage;
  const name = (slot: number | undefined) => (slot === undefined ? "nowhere" : (gateways[slot]?.name ?? `slot ${slot}`));
  const { job, ...rest } = follow.labels;
  const matchers = [["job", job], ...Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1))].map(
    ([k, v]) => `${k}=${JSON.stringify(v)}`,
  );
  const query = `${METRIC}{${matchers.join(",")}}`;
  const holders = async () => (await stage.placement()).find((p) => p.path === follow.path)?.slots ?? [];

  out(`Prometheus, scraping the three Pushgateways through dyshard (http_sd_configs: ${app.url}/-/dyshard/sd):`);
  out();
  out(
    `  prometheus  ${prom.url}   (prometheus, pid ${prom.proc.pid}, every ${SCRAPE_EVERY}, honor_labels: true, plus a dyshard_slot label that tells where a series comes from)`,
  );
  out();
  const owner = stage.ownerOf(follow.path)!;
  const ownerGw = gateways[owner]!;
  out(
    `  1. PUT ${METRIC} 200 for ${follow.shown} through dyshard: ${await stage.push(follow.path, 200)}, on ${name((await holders())[0])}`,
  );
  const firstMs = await untilOneSeries(prom, query, owner, 200);
  out(`  2. PromQL ${query} = 200: 1 series, scraped from ${ownerGw.name} (after ${secs(firstMs)})`);

  const groups = await stage.placement();
  const owned = groups.filter((p) => p.slots.includes(owner)).length;
  const pid = ownerGw.proc.pid;
  await killOnPurpose(ownerGw.proc);
  out(`  3. ${ownerGw.name} killed (SIGKILL, pid ${pid}): it held ${owned} of the ${groups.length} groups, this one among them`);
  const statuses = [];
  for (const p of groups) statuses.push(await stage.push(p.path, p.path === follow.path ? 300 : 250));
  const during = (await holders())[0];
  out(
    `  4. the jobs push again through dyshard, all ${statuses.length} groups: ${statuses.every((s) => s === 200) ? "every push 200" : `answers ${statuses.join(",")}`}; ${follow.shown} = 300 now on ${name(during)}`,
  );
  const failoverMs = await untilOneSeries(prom, query, during ?? -1, 300);
  out(`  5. PromQL = 300: 1 series, scraped from ${name(during)} (after ${secs(failoverMs)})`);

  await restartServer(ownerGw, stage.pushgatewaySpec(ownerGw.name));
  const upMs = await until(`${ownerGw.name} healthy in dyshard`, () => app.membership.members[owner]?.healthy === true, 20_000);
  out(`  6. ${ownerGw.name} restarted empty on the same port (pid ${ownerGw.proc.pid}); dyshard saw it healthy after ${secs(upMs)}`);
  const report = await handover(app.url);
  const after = await stage.placement();
  const misplaced = after.filter((p) => p.slots.length !== 1 || p.slots[0] !== stage.ownerOf(p.path));
  const copies = after.find((p) => p.path === follow.path)?.slots ?? [];
  out(
    `  7. handover (POST /-/dyshard/rebalance): copied ${report.copied}, deleted ${report.deleted}; ${follow.shown}: ${copies.length} ${copies.length === 1 ? "copy" : "copies"}, on ${copies.map(name).join(" + ") || "none"}`,
  );
  if (misplaced.length === 0) out(`     every one of the ${after.length} groups is stored once, on its owner`);
  else stage.problems.push(`after the handover ${misplaced.length} of the ${after.length} groups are not once on their owner`);
  const backMs = await untilOneSeries(prom, query, owner, 300);
  out(`  8. PromQL = 300: 1 series, scraped from ${ownerGw.name} again (after ${secs(backMs)})`);
  out();
}

/** POST /-/dyshard/rebalance: one handover run now, its report. */
async function handover(base: string): Promise<{ copied: number; deleted: number }> {
  const res = await fetch(`${base}/-/dyshard/rebalance`, { method: "POST", signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST /-/dyshard/rebalance answered ${res.status}: ${text.trim()}`);
  return JSON.parse(text) as { copied: number; deleted: number };
}
