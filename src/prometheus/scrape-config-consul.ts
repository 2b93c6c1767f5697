// The Consul side of a generated prometheus.yml: consul_sd_configs as upstream Prometheus documents
// them (Debian's build has none: docs/facts/prometheus.md), and relabel rules that make Prometheus
// see the catalog as dyshard does (src/discovery/consul/consul-catalog.ts): an instance counts
// when all its checks pass, and its Meta.dyshard_url, when present, is where it is. Pure.
import type { Job, Rule } from "./scrape-job.js";

/** The config's discovery.consul, as far as Prometheus needs it. */
export interface ConsulSource {
  /** Consul's HTTP API, e.g. http://consul:8500 (a path needs Prometheus 2.45's path_prefix). */
  address: string;
  token: string;
  datacenter: string;
  service: string;
  tag: string;
}

const DYSHARD_URL = "__meta_consul_service_metadata_dyshard_url";
/** A host: a name or IPv4 address, or an IPv6 address in brackets; no port. */
const HOST = String.raw`([^/:\[\]]+|\[[^\]]+\])`;

/** A job discovering `service` (only instances with `tag`, if any) in Consul. */
export function consulJob(jobName: string, source: ConsulSource, service: string, tag: string): Job {
  const url = new URL(source.address);
  const sd: Record<string, unknown> = { server: url.host };
  if (url.protocol === "https:") sd.scheme = "https";
  const prefix = url.pathname.replace(/\/+$/, "");
  if (prefix) sd.path_prefix = prefix;
  if (source.token) sd.token = source.token;
  if (source.datacenter) sd.datacenter = source.datacenter;
  sd.services = [service];
  if (tag) sd.tags = [tag];
  const notes: Record<string, string> = {
    consul_sd_configs: prefix
      ? " Needs a Prometheus build with Consul discovery (Debian's has none), 2.45 or later for path_prefix."
      : " Needs a Prometheus build with Consul discovery (the official one; Debian's has none: use --sd http there).",
  };
  return { body: { job_name: jobName, consul_sd_configs: [sd] }, notes, rules: [] };
}

/** Prometheus lists critical instances too; dyshard routes only to those whose checks all pass. */
export function keepPassing(): Rule {
  return {
    why: " Only instances whose checks all pass (Prometheus lists critical ones too; dyshard routes only to passing ones).",
    rule: { source_labels: ["__meta_consul_health"], regex: "passing", action: "keep" },
  };
}

/**
 * Meta.dyshard_url (written by dyshard serve --consul-register) over the registered address:
 * scheme, host:port (the default port written out, as dyshard's http_sd does) and path prefix.
 * Without the meta none of them matches, and Consul's address and port stand.
 */
export function dyshardUrlRules(): Rule[] {
  const replace = (regex: string, target: string, replacement: string) => ({
    source_labels: [DYSHARD_URL],
    regex,
    target_label: target,
    replacement,
  });
  return [
    {
      why: " Meta.dyshard_url, when present, is where the Pushgateway is: its scheme,",
      rule: replace("(https?)://.*", "__scheme__", "$1"),
    },
    { why: " its host and port,", rule: replace("https?://([^/]+).*", "__address__", "$1") },
    { why: " the default port when the URL has none,", rule: replace(`http://${HOST}(/.*)?`, "__address__", "${1}:80") },
    { rule: replace(`https://${HOST}(/.*)?`, "__address__", "${1}:443") },
    { why: " and its path prefix (--web.route-prefix).", rule: replace("https?://[^/]+(/.*[^/])/*", "__metrics_path__", "${1}/metrics") },
  ];
}
