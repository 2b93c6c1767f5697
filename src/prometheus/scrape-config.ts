// A complete prometheus.yml for one Prometheus server scraping the Pushgateways behind dyshard
// (`dyshard prometheus-config`): the Pushgateway job (http_sd from dyshard, static targets, or
// Consul), the seed-002 hashmod shard rules (docs/facts/seed-002-hashmod-sharding.txt), dyshard's
// own job and remote_write. Pure: options in, YAML text out; its comments say why, for whoever
// reads the file.
import { Document, isMap, isScalar, isSeq, visit, type Node } from "yaml";
import type { UpstreamConfig } from "../config/schema.js";
import { consulJob, dyshardUrlRules, keepPassing, type ConsulSource } from "./scrape-config-consul.js";
import type { Job, Rule } from "./scrape-job.js";
import { REPLICA_LABEL } from "../pushgateway/replica.js";
import { targetGroup } from "./sd-targets.js";

export type SdKind = "http" | "consul" | "static";

export interface ScrapeConfigOptions {
  sd: SdKind;
  /** --sd http: dyshard's /-/dyshard/sd, `?prometheus=NAME` already added in allocation mode. */
  sdUrl: string;
  /** --sd http: how often Prometheus asks it. */
  refreshInterval: string;
  /** --sd static: the Pushgateways (retired ones are left out). */
  upstreams: UpstreamConfig[];
  /** --sd consul: where the Pushgateways are registered. */
  consul: ConsulSource;
  /** Seed-002 sharding: this server is `index` of `of`. */
  shard?: { index: number; of: number };
  /** Allocation mode (dyshard serve --prometheus NAME=URL): this server's name. */
  prometheusName?: string;
  scrapeInterval: string;
  remoteWrite?: string;
  /** dyshard's own /metrics as static targets; none with --sd consul: the Consul service `dyshard`. */
  dyshardUrls: string[];
  /** The command line that made the file, for its first comment. */
  command?: string;
}

export const PUSHGATEWAY_JOB = "pushgateway";
export const DYSHARD_JOB = "dyshard";

const HONOR_LABELS_WHY = [
  " honor_labels: true keeps the pushed job and instance labels (false renames them exported_job and",
  " exported_instance). A group pushed without an instance label then has none, whichever Pushgateway",
  " holds it, so the copies of a group on two Pushgateways (during a handover) are one series.",
].join("\n");

export function prometheusYaml(o: ScrapeConfigOptions): string {
  const jobs = [pushgatewayJob(o), dyshardJob(o)];
  const config: Record<string, unknown> = { global: { scrape_interval: o.scrapeInterval }, scrape_configs: jobs.map(jobBody) };
  if (o.remoteWrite) config.remote_write = [{ url: o.remoteWrite }];
  const doc = new Document(config);
  doc.commentBefore = header(o);
  jobs.forEach((job, i) => annotate(doc, ["scrape_configs", i], job));
  if (o.remoteWrite) noteKey(doc.contents, "remote_write", remoteWriteWhy(o));
  visit(doc, {
    // Short lists of labels and targets on one line, as Prometheus's own examples write them.
    Pair(_, pair) {
      if (isScalar(pair.key) && ["source_labels", "targets", "services", "tags"].includes(String(pair.key.value)) && isSeq(pair.value))
        pair.value.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

function header(o: ScrapeConfigOptions): string {
  const source = { http: "http_sd from dyshard", static: "static targets", consul: "Consul discovery" }[o.sd];
  const mode = o.shard
    ? `, hashmod shard ${o.shard.index} of ${o.shard.of}`
    : o.prometheusName
      ? `, the Pushgateways dyshard allocates to ${o.prometheusName}`
      : "";
  const lines = [` prometheus.yml for one Prometheus server scraping the Pushgateways behind dyshard (${source}${mode}).`];
  if (o.command) lines.push(` Made by: ${o.command}`);
  if ((o.shard || o.prometheusName) && !o.remoteWrite)
    lines.push(" No remote_write: this server holds only its share of the series; query every server, or add --remote-write URL.");
  return lines.join("\n");
}

function remoteWriteWhy(o: ScrapeConfigOptions): string {
  if (!o.shard && !o.prometheusName) return " Every series is also written here.";
  return " Each server holds only its share of the series: seed 002 runs sharded servers in remote-write mode, all into one store.";
}

function pushgatewayJob(o: ScrapeConfigOptions): Job {
  const job: Job =
    o.sd === "consul"
      ? consulJob(PUSHGATEWAY_JOB, o.consul, o.consul.service, o.consul.tag)
      : { body: { job_name: PUSHGATEWAY_JOB }, notes: {}, rules: [] };
  job.why = " The Pushgateways behind dyshard, each scraped directly: dyshard routes the pushes, and its own /metrics holds none.";
  job.body = { job_name: PUSHGATEWAY_JOB, honor_labels: true, ...job.body };
  job.notes.honor_labels = HONOR_LABELS_WHY;
  if (o.sd === "consul") job.rules.push(keepPassing(), ...dyshardUrlRules());
  if (o.sd === "http") {
    job.body.http_sd_configs = [{ url: o.sdUrl, refresh_interval: o.refreshInterval }];
    job.notes.http_sd_configs = o.prometheusName
      ? ` The Pushgateways dyshard allocates to ${o.prometheusName} (dyshard serve --prometheus ${o.prometheusName}=URL), one target\n` +
        " group each; dyshard moves a dead server's share to the live ones. Prometheus keeps the last list while\n" +
        " dyshard is unreachable."
      : " Every Pushgateway dyshard knows, one target group each. Prometheus keeps the last list while dyshard is unreachable.";
  }
  if (o.sd === "static") {
    job.body.static_configs = o.upstreams.filter((u) => !u.retired).map((u) => staticGroup(u.url, u.slot));
    job.notes.static_configs = " The configured Pushgateways as dyshard's /-/dyshard/sd lists them (a path prefix or https as labels).";
  }
  job.rules.push(...shardRules(o));
  job.body.metric_relabel_configs = [{ source_labels: [REPLICA_LABEL], regex: ".+", action: "drop" }];
  job.notes.metric_relabel_configs =
    ` Standby copies (dyshard serve --replicas 2) carry ${REPLICA_LABEL}="1": kept on a second Pushgateway for failover,\n` +
    " never ingested, so every group is one series whatever holds its copies.";
  return job;
}

function dyshardJob(o: ScrapeConfigOptions): Job {
  if (o.sd === "consul" && o.dyshardUrls.length === 0) {
    const job = consulJob(DYSHARD_JOB, o.consul, "dyshard", "");
    job.why = [
      " dyshard's own /metrics: the dyshards that register themselves (--consul-register) as the service dyshard,",
      " passing or not (a dyshard with no healthy Pushgateway is critical in Consul, when its metrics matter most).",
    ].join("\n");
    job.rules.push(...shardRules(o));
    return job;
  }
  return {
    body: { job_name: DYSHARD_JOB, static_configs: o.dyshardUrls.map((url) => staticGroup(url)) },
    why: " dyshard's own /metrics (its labels are its own: no honor_labels).",
    notes: {},
    rules: shardRules(o),
  };
}

/**
 * One static target group as /-/dyshard/sd lists it (targetGroup: the address, a path prefix as
 * __metrics_path__, https as __scheme__): a Pushgateway (with its slot) keeps the
 * __meta_dyshard_* labels but health, which a static file cannot know; dyshard itself keeps none.
 */
function staticGroup(url: string, slot?: number): { targets: string[]; labels?: Record<string, string> } {
  const { targets, labels } = targetGroup({ slot: slot ?? 0, url, healthy: true });
  const keep = (k: string) => k !== "__meta_dyshard_healthy" && (slot !== undefined || !k.startsWith("__meta_"));
  const kept = Object.fromEntries(Object.entries(labels).filter(([k]) => keep(k)));
  return Object.keys(kept).length ? { targets, labels: kept } : { targets };
}

/** The seed-002 rules: keep the targets whose hashmod of __address__ is this server's index. */
function shardRules(o: ScrapeConfigOptions): Rule[] {
  if (!o.shard) return [];
  const { index, of } = o.shard;
  return [
    {
      why: ` Shard ${index} of ${of} (seed 002): hashmod of the target's address; \`dyshard hashmod --modulus ${of} HOST:PORT\` tells which.`,
      rule: { source_labels: ["__address__"], action: "hashmod", modulus: of, target_label: "__tmp_hash" },
    },
    {
      why: ` This server scrapes only the targets of shard ${index}; the others are dropped before any scrape.`,
      rule: { source_labels: ["__tmp_hash"], action: "keep", regex: String(index) },
    },
  ];
}

function jobBody(job: Job): Record<string, unknown> {
  return job.rules.length ? { ...job.body, relabel_configs: job.rules.map((r) => r.rule) } : job.body;
}

function annotate(doc: Document, path: (string | number)[], job: Job): void {
  const node = doc.getIn(path, true) as Node;
  if (job.why) node.commentBefore = job.why;
  for (const [key, why] of Object.entries(job.notes)) noteKey(node, key, why);
  job.rules.forEach((r, i) => {
    if (r.why) (doc.getIn([...path, "relabel_configs", i], true) as Node).commentBefore = r.why;
  });
}

/** A comment above `key` of `map`. */
function noteKey(map: unknown, key: string, why: string): void {
  if (!isMap(map)) return;
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
  if (pair && isScalar(pair.key)) pair.key.commentBefore = why;
}
