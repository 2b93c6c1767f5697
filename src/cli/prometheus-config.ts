// `dyshard prometheus-config --sd http|consul|static ...`: prints a complete prometheus.yml for one
// Prometheus server (src/prometheus/scrape-config.ts); contacts nothing.
import type { Command } from "commander";
import {
  DEFAULT_REFRESH_INTERVAL,
  DEFAULT_SCRAPE_INTERVAL,
  DEFAULT_SD_URL,
  scrapeConfigOptions,
  type PrometheusConfigFlags,
} from "../prometheus/scrape-config-options.js";
import { prometheusYaml } from "../prometheus/scrape-config.js";
import { configFrom, fail, settingsOptions } from "./options.js";

const CONSUL_SETTINGS = ["address", "token", "datacenter", "service", "tag"].map((k) => `discovery.consul.${k}`);
const repeat = (v: string, prev: string[] = []) => [...prev, v];

export function prometheusConfigCommand(program: Command): void {
  settingsOptions(
    program
      .command("prometheus-config")
      .description("print a prometheus.yml for one Prometheus server scraping the Pushgateways behind dyshard (contacts nothing)"),
    ["upstreams", ...CONSUL_SETTINGS],
  )
    .option(
      "--sd <http|consul|static>",
      "how Prometheus finds the Pushgateways: dyshard's /-/dyshard/sd (any Prometheus build), Consul, or the upstreams",
    )
    .option("--sd-url <url>", `dyshard's http_sd URL, with --sd http (default ${DEFAULT_SD_URL})`)
    .option("--refresh-interval <duration>", `how often Prometheus asks --sd-url (default ${DEFAULT_REFRESH_INTERVAL}, Prometheus's own)`)
    .option("--prometheus-shards <k>", "seed-002 hashmod sharding: the number of Prometheus servers (with --prometheus-index)")
    .option("--prometheus-index <i>", "this server's index, 0 to K-1 (with --prometheus-shards)")
    .option("--prometheus-name <name>", "allocation mode: this server's NAME in dyshard serve --prometheus NAME=URL (with --sd http)")
    .option("--scrape-interval <duration>", `the global scrape_interval (default ${DEFAULT_SCRAPE_INTERVAL})`)
    .option("--remote-write <url>", "where to remote-write every series (sharded servers need one)")
    .option(
      "--dyshard-url <url>",
      "a dyshard whose own /metrics to scrape (repeatable; default: the host of --sd-url, http://127.0.0.1:9091 with --sd static, the Consul service dyshard with --sd consul)",
      repeat,
    )
    .action((opts: Record<string, unknown>) => {
      const config = configFrom(opts);
      const command = ["dyshard prometheus-config", ...redacted(process.argv.slice(3)).map(shellWord)].join(" ");
      const options = scrapeConfigOptions(opts as PrometheusConfigFlags, config, command);
      if (typeof options === "string") fail(options);
      process.stdout.write(prometheusYaml(options));
    });
}

/** The arguments with secrets (the Consul token) replaced, for the file's "Made by" line. */
export function redacted(args: string[]): string[] {
  return args.map((arg, i) => (args[i - 1] === "--consul-token" ? "REDACTED" : arg.replace(/^(--consul-token=).*/, "$1REDACTED")));
}

/** An argument as a shell would need it written. */
function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
