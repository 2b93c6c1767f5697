#!/usr/bin/env node
// dyshard's command line: `serve` runs the router, `route` shows where paths would go.
import { createInterface } from "node:readline";
import { Command, Option } from "commander";
import { ConfigError, SETTINGS, loadConfig, optionKey } from "./config/load.js";
import type { Config } from "./config/schema.js";
import { Cluster } from "./membership/cluster.js";
import { loadHash64 } from "./ring/hash.js";
import { route } from "./router/route.js";
import cluster from "node:cluster";
import { startApp } from "./server/app.js";
import { startPrimary, startWorker } from "./server/workers.js";
import { Registry } from "prom-client";
import { discoveryFor } from "./discovery/providers.js";
import { handoverFromConfig } from "./handover/from-config.js";
import { createLogger } from "./log.js";

const program = new Command("dyshard")
  .description("A sharding, health-aware front that makes N Prometheus Pushgateways act as one")
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

function settingsOptions(cmd: Command, only?: string[]): Command {
  cmd.option("--config <file>", "YAML config file (see config.example.yaml)");
  for (const s of SETTINGS) {
    if (only && !only.includes(s.path)) continue;
    const opt = new Option(s.flag, `${s.description} [env ${s.env}]`);
    if (s.list) opt.argParser((v: string, prev: string[] = []) => [...prev, v]);
    cmd.addOption(opt);
  }
  return cmd;
}

function configFrom(opts: Record<string, unknown>): Config {
  const flags: Record<string, unknown> = {};
  for (const s of SETTINGS) flags[optionKey(s)] = opts[optionKey(s)];
  try {
    return loadConfig({ file: opts.config as string | undefined, env: process.env, flags });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

function fail(message: string): never {
  process.stderr.write(`dyshard: ${message}\n`);
  process.exit(2);
}

/** What the stop steps may take beyond --shutdown-timeout (closing pools, logging) before the process exits anyway. */
const SHUTDOWN_MARGIN_MS = 1000;

settingsOptions(program.command("serve").description("route pushes to the Pushgateways")).action(async (opts: Record<string, unknown>) => {
  const config = configFrom(opts);
  const log = createLogger(config.logLevel);
  const start = async (): Promise<{ stop(): Promise<void> }> => {
    if (config.workers === 1) return startApp(config, log);
    return cluster.isPrimary ? startPrimary(config, config.workers, log) : startWorker(config, log.child({ worker: process.pid }));
  };
  const starting = start().catch((err: Error) => fail(err.message));
  // Installed before start-up ends (it waits for Consul), so an early SIGTERM still stops cleanly.
  let signals = 0;
  const shutdown = async (signal: string) => {
    if (signals++ > 0) process.exit(1); // a second signal: stop waiting
    // The stop steps are bounded by the shutdown timeout; whatever still hangs after it (a stopped
    // upstream that holds a pool's close, Consul) must not keep the process alive.
    setTimeout(() => {
      log.error({ shutdown_timeout_ms: config.limits.shutdownTimeoutMs }, "stopping took longer than the shutdown timeout; exiting now");
      process.exit(1);
    }, config.limits.shutdownTimeoutMs + SHUTDOWN_MARGIN_MS).unref();
    const app = await starting;
    if (cluster.isPrimary) log.info({ signal }, "shutting down: no new connections, letting in-flight requests finish");
    await app.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  await starting;
});

settingsOptions(
  program.command("route").description("print where each push path would be routed (every upstream taken as healthy; contacts nothing)"),
  ["upstreams", "shard_by"],
)
  .argument("[paths...]", "push paths such as /metrics/job/j/instance/a (default: one per line on standard input)")
  .action(async (paths: string[], opts: Record<string, unknown>) => {
    const config = configFrom(opts);
    if (config.upstreams.filter((u) => !u.retired).length === 0)
      fail("no upstreams configured: give at least one --upstream URL (or upstreams: in the config file)");
    const cluster = new Cluster(config.upstreams, await loadHash64());
    let rejected = 0;
    const one = (path: string) => {
      const r = route("PUT", path, config.shardBy);
      if (r.kind === "push") {
        const owner = cluster.owner(r.key);
        return { path, job: r.group.job, labels: r.group.labels, key: r.key, slot: owner?.slot ?? null, upstream: owner?.url ?? null };
      }
      rejected++;
      if (r.kind === "other") return { path, status: 404, error: "not a push path (expected /metrics/job/<JOB>{/<LABEL>/<VALUE>})" };
      return { path, status: r.status, error: r.body.trim() || `redirect to ${r.headers.location}` };
    };
    const out = (path: string) => process.stdout.write(JSON.stringify(one(path)) + "\n");
    if (paths.length > 0) paths.forEach(out);
    else for await (const line of createInterface({ input: process.stdin })) if (line.trim()) out(line.trim());
    process.exitCode = rejected > 0 ? 1 : 0;
  });

settingsOptions(
  program
    .command("rebalance")
    .description("hand stale groups over to their owners once: print the plan (--dry-run) or carry it out (--apply), as JSON"),
  [
    "upstreams",
    "shard_by",
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
  ],
)
  .option("--dry-run", "print the plan, change nothing")
  .option("--apply", "carry the plan out and print the result")
  .action(async (opts: Record<string, unknown>) => {
    if (Boolean(opts.dryRun) === Boolean(opts.apply)) fail("give exactly one of --dry-run and --apply");
    const config = configFrom(opts);
    const discovery = discoveryFor(config);
    try {
      const members = await discovery.once().catch((err: Error) => fail(`cannot read the membership: ${err.message}`));
      if (members.length === 0) fail("no upstreams: give --upstream URLs, a config file, or --discovery consul");
      const cluster = new Cluster(members, await loadHash64());
      const log = createLogger("warn", process.stderr);
      const lock = await discovery.handoverLock("dyshard rebalance (cli)", log);
      const handover = handoverFromConfig(config, cluster, new Registry(), log, { once: true, ...(lock ? { lock } : {}) });
      const report = await handover.run({ dryRun: Boolean(opts.dryRun) });
      await handover.stop();
      process.stdout.write(JSON.stringify(report, null, 2) + "\n");
      process.exitCode = report.skipped || report.failed > 0 || report.errors.length > 0 ? 1 : 0;
    } finally {
      await discovery.stop();
    }
  });

await program.parseAsync(process.argv);
