// `dyshard rebalance --dry-run|--apply`: one handover run from the command line, its report as JSON.
import type { Command } from "commander";
import { Registry } from "prom-client";
import { createLogger } from "../core/logger.js";
import { discoveryFor } from "../discovery/providers.js";
import { handoverFromConfig } from "../handover/from-config.js";
import { Membership } from "../membership/membership.js";
import { loadHash64 } from "../routing/hash.js";
import { loadUpstreamAccess } from "../upstream/load-access.js";
import { configFrom, fail, settingsOptions } from "./options.js";

const SETTINGS_USED = [
  "upstreams",
  "shard_by",
  "replicas",
  "group_ttl",
  "group_ttl_by_job",
  "handover.concurrency",
  "handover.max_inventory",
  "discovery.type",
  "discovery.consul.address",
  "discovery.consul.token",
  "discovery.consul.datacenter",
  "discovery.consul.service",
  "discovery.consul.tag",
  "health.timeout",
  "limits.upstream_timeout",
  "upstream_tls.ca_file",
  "upstream_tls.insecure_skip_verify",
  "upstream_auth_file",
];

export function rebalanceCommand(program: Command): void {
  settingsOptions(
    program
      .command("rebalance")
      .description("hand stale groups over to their owners once: print the plan (--dry-run) or carry it out (--apply), as JSON"),
    SETTINGS_USED,
  )
    .option("--dry-run", "print the plan, change nothing")
    .option("--apply", "carry the plan out and print the result")
    .action(async (opts: Record<string, unknown>) => {
      if (Boolean(opts.dryRun) === Boolean(opts.apply)) fail("give exactly one of --dry-run and --apply");
      const config = configFrom(opts);
      let access;
      try {
        access = loadUpstreamAccess(config);
      } catch (err) {
        fail((err as Error).message);
      }
      const discovery = discoveryFor(config, access);
      try {
        const members = await discovery.once().catch((err: Error) => fail(`cannot read the membership: ${err.message}`));
        if (members.length === 0) fail("no upstreams: give --upstream URLs, a config file, or --discovery consul");
        const membership = new Membership(members, await loadHash64());
        const log = createLogger("warn", process.stderr);
        const lock = await discovery.handoverLock("dyshard rebalance (cli)", log);
        const handover = handoverFromConfig(config, membership, new Registry(), log, { once: true, access, ...(lock ? { lock } : {}) });
        const report = await handover.run({ dryRun: Boolean(opts.dryRun) });
        await handover.stop();
        process.stdout.write(JSON.stringify(report, null, 2) + "\n");
        process.exitCode = report.skipped || report.failed > 0 || report.errors.length > 0 ? 1 : 0;
      } finally {
        await discovery.stop();
      }
    });
}
