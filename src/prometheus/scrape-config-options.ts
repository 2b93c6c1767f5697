// What `dyshard prometheus-config` was asked for, checked: its flags and the dyshard config become
// the options of prometheusYaml (scrape-config.ts), or a message that says what is wrong. Pure.
import { PROMETHEUS_NAME, type Config } from "../config/schema.js";
import type { ScrapeConfigOptions, SdKind } from "./scrape-config.js";

export const SD_KINDS: readonly SdKind[] = ["http", "consul", "static"];
export const DEFAULT_SD_URL = "http://127.0.0.1:9091/-/dyshard/sd";
export const DEFAULT_SCRAPE_INTERVAL = "15s";
/** Prometheus's own default for http_sd_configs. */
export const DEFAULT_REFRESH_INTERVAL = "60s";
const SD_PATH = "/-/dyshard/sd";

/** The command's own flags as commander gives them (undefined: not given). */
export interface PrometheusConfigFlags {
  sd?: string;
  sdUrl?: string;
  refreshInterval?: string;
  prometheusShards?: string;
  prometheusIndex?: string;
  prometheusName?: string;
  scrapeInterval?: string;
  remoteWrite?: string;
  dyshardUrl?: string[];
}

export type SourceConfig = Pick<Config, "upstreams" | "discovery" | "prometheus">;

/** What is wrong with the flags, in words for the user. */
class Refused extends Error {}

/** The options, or why they cannot be made. */
export function scrapeConfigOptions(flags: PrometheusConfigFlags, config: SourceConfig, command?: string): ScrapeConfigOptions | string {
  try {
    return build(flags, config, command);
  } catch (err) {
    if (err instanceof Refused) return err.message;
    throw err;
  }
}

function build(flags: PrometheusConfigFlags, config: SourceConfig, command: string | undefined): ScrapeConfigOptions {
  const sd = sdKind(flags);
  const split = shardOrName(flags, config);
  const sdUrl = new URL(httpUrl("--sd-url", flags.sdUrl ?? DEFAULT_SD_URL, DEFAULT_SD_URL));
  if (split.name !== undefined) sdUrl.searchParams.set("prometheus", split.name);
  if (sd === "static" && config.upstreams.filter((u) => !u.retired).length === 0)
    throw new Refused("--sd static lists the upstreams: give at least one --upstream URL (or upstreams: in the config file)");
  const dyshardUrls = (flags.dyshardUrl ?? []).map((u) => httpUrl("--dyshard-url", u, "http://dyshard-1:9091"));
  const options: ScrapeConfigOptions = {
    sd,
    sdUrl: sdUrl.toString(),
    refreshInterval: duration("--refresh-interval", flags.refreshInterval ?? DEFAULT_REFRESH_INTERVAL),
    upstreams: config.upstreams,
    consul: config.discovery.consul,
    scrapeInterval: duration("--scrape-interval", flags.scrapeInterval ?? DEFAULT_SCRAPE_INTERVAL),
    dyshardUrls: dyshardUrls.length ? dyshardUrls : defaultDyshardUrls(sd, sdUrl),
  };
  if (split.shard) options.shard = split.shard;
  if (split.name !== undefined) options.prometheusName = split.name;
  if (flags.remoteWrite !== undefined)
    options.remoteWrite = httpUrl("--remote-write", flags.remoteWrite, "http://thanos-receive:19291/api/v1/receive");
  if (command !== undefined) options.command = command;
  return options;
}

function sdKind(flags: PrometheusConfigFlags): SdKind {
  if (flags.sd === undefined)
    throw new Refused("give --sd http, consul or static: how Prometheus finds the Pushgateways (http: dyshard's /-/dyshard/sd)");
  const sd = SD_KINDS.find((k) => k === flags.sd);
  if (!sd) throw new Refused(`--sd must be http, consul or static, not ${JSON.stringify(flags.sd)}`);
  if (sd === "http") return sd;
  if (flags.sdUrl !== undefined) throw new Refused(`--sd-url is dyshard's http_sd URL: it goes with --sd http, not --sd ${sd}`);
  if (flags.refreshInterval !== undefined) throw new Refused(`--refresh-interval is http_sd's: it goes with --sd http, not --sd ${sd}`);
  if (flags.prometheusName !== undefined)
    throw new Refused(`--prometheus-name needs --sd http (dyshard serves the allocation at /-/dyshard/sd?prometheus=NAME), not --sd ${sd}`);
  return sd;
}

/** Seed-002 shards (--prometheus-shards K --prometheus-index I), dyshard's allocation (--prometheus-name), or neither. */
function shardOrName(flags: PrometheusConfigFlags, config: SourceConfig): { shard?: { index: number; of: number }; name?: string } {
  const { prometheusShards: k, prometheusIndex: i, prometheusName: name } = flags;
  if ((k !== undefined || i !== undefined) && name !== undefined)
    throw new Refused(
      "--prometheus-shards/--prometheus-index (hashmod shards) and --prometheus-name (dyshard's allocation) split the Pushgateways two ways: give one or the other",
    );
  if (name !== undefined) return { name: knownName(name, config) };
  if (k === undefined && i === undefined) return {};
  if (k === undefined || i === undefined)
    throw new Refused("give both --prometheus-shards K and --prometheus-index I (this server is I of K, counted from 0), or neither");
  if (!/^\d+$/.test(k) || Number(k) < 1 || !Number.isSafeInteger(Number(k)))
    throw new Refused(`--prometheus-shards must be the number of Prometheus servers (1 or more), not ${JSON.stringify(k)}`);
  if (!/^\d+$/.test(i) || Number(i) >= Number(k))
    throw new Refused(
      `--prometheus-index must be this server's index, from 0 to ${Number(k) - 1} for --prometheus-shards ${k}, not ${JSON.stringify(i)}`,
    );
  return { shard: { index: Number(i), of: Number(k) } };
}

function knownName(name: string, config: SourceConfig): string {
  if (!PROMETHEUS_NAME.test(name))
    throw new Refused(
      `--prometheus-name takes letters, digits, '_', '.' and '-' (as dyshard serve --prometheus NAME=URL), not ${JSON.stringify(name)}`,
    );
  const known = config.prometheus.map((p) => p.name);
  if (known.length && !known.includes(name))
    throw new Refused(`no Prometheus server named ${JSON.stringify(name)} in the config (prometheus:); known: ${known.join(", ")}`);
  return name;
}

/** dyshard's address for its own job: where http_sd asks it; 127.0.0.1:9091 for static targets; Consul's for --sd consul. */
function defaultDyshardUrls(sd: SdKind, sdUrl: URL): string[] {
  if (sd === "consul") return [];
  if (sd === "static") return ["http://127.0.0.1:9091"];
  const prefix = sdUrl.pathname.endsWith(SD_PATH) ? sdUrl.pathname.slice(0, -SD_PATH.length) : "";
  return [sdUrl.origin + prefix.replace(/\/+$/, "")];
}

/** A duration as Prometheus writes them (1m30s, 15s, 500ms), more than zero. */
function duration(flag: string, text: string): string {
  if (/^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$/.test(text) && /[1-9]/.test(text)) return text;
  throw new Refused(`${flag} must be a Prometheus duration such as 15s, 1m or 1m30s (more than 0), not ${JSON.stringify(text)}`);
}

/** An http(s) URL as written (a --dyshard-url without its trailing slash: it is a base). */
function httpUrl(flag: string, text: string, example: string): string {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (url?.protocol !== "http:" && url?.protocol !== "https:")
    throw new Refused(`${flag} must be an http or https URL such as ${example}, not ${JSON.stringify(text)}`);
  return flag === "--dyshard-url" ? url.origin + url.pathname.replace(/\/+$/, "") : url.toString();
}
