// Wires the path of a push: discovery → membership & health → ring → router → forwarder, behind
// one listener. The control plane (membership, health, discovery, handover) and the data plane
// (listener, forwarder) are built apart, so that with --workers the primary runs the first and
// every worker the second (src/server/workers.ts).
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";
import type { Config } from "../config/schema.js";
import type { DiscoveryProvider } from "../discovery/provider.js";
import { discoveryFor } from "../discovery/providers.js";
import { GroupGate, type MoveGate } from "../handover/gate.js";
import { handoverFromConfig } from "../handover/from-config.js";
import { PushLedger } from "../handover/push-ledger.js";
import type { Handover } from "../handover/handover.js";
import type { RunReport } from "../handover/run-report.js";
import { createLogger, type Logger } from "../log.js";
import { Cluster } from "../membership/cluster.js";
import { HealthChecker } from "../membership/health-checker.js";
import { createMetrics, type Metrics } from "../metrics.js";
import type { Engine } from "../proxy/engine.js";
import { Forwarder, type PushHooks } from "../proxy/forwarder.js";
import { Spool } from "../proxy/spool.js";
import { loadHash64 } from "../ring/hash.js";
import { UnavailableError } from "../unavailable-error.js";
import { createListener } from "./listener.js";

export interface App {
  config: Config;
  handover: Handover;
  cluster: Cluster;
  metrics: Metrics;
  server: Server;
  log: Logger;
  /** The address actually bound (port 0 in the config picks a free one). */
  url: string;
  /** Stops accepting, lets in-flight requests finish (bounded by the shutdown timeout), closes pools. */
  stop(): Promise<void>;
}

export function checkUpstreams(config: Config, discovery: DiscoveryProvider): void {
  if (discovery.requiresUpstreams && config.upstreams.filter((u) => !u.retired).length === 0) {
    throw new Error("no upstreams configured: give at least one --upstream URL (or upstreams: in the config file)");
  }
}

/** A membership as the discovery source starts it (with Consul: empty until the catalog answers). */
export async function newCluster(discovery: DiscoveryProvider): Promise<Cluster> {
  return new Cluster(discovery.initialMembers(), await loadHash64());
}

/** The pushes a dyshard could not acknowledge, as the handover consults them. */
export function newLedger(config: Config): PushLedger {
  return new PushLedger({ keepMs: config.handover.recentWindowMs, maxGroups: 100_000 });
}

/** The control plane: health checks, discovery, the handover. `gate` holds pushes during moves. */
export async function startControl(
  config: Config,
  cluster: Cluster,
  registry: Registry,
  log: Logger,
  boundPort: number,
  gate: MoveGate,
  ledger: PushLedger,
  discovery: DiscoveryProvider,
) {
  const checker = new HealthChecker(cluster, config.health);
  const lock = await discovery.handoverLock("dyshard handover", log);
  const handover = handoverFromConfig(config, cluster, registry, log, { gate, ledger, ...(lock ? { lock } : {}) });
  cluster.on("change", ({ member, healthy, reason }) => {
    log.warn(
      { upstream: member.url, slot: member.slot, healthy, reason, healthy_members: cluster.healthyCount() },
      healthy ? "upstream up" : "upstream down",
    );
  });
  await discovery.watch(cluster, registry, log, boundPort);
  checker.start();
  handover.start();
  return {
    handover,
    async stop() {
      checker.stop();
      await handover.stop();
      await discovery.stop();
    },
  };
}

export interface DataPlaneHandlers {
  rebalance(dryRun: boolean): Promise<RunReport>;
  metrics(): Promise<{ contentType: string; text: string }>;
}

/** The data plane: engine, forwarder and listener, on a membership kept up to date by someone else. */
export async function startDataPlane(
  config: Config,
  cluster: Cluster,
  metrics: Metrics,
  log: Logger,
  hooks: PushHooks,
  handlers: DataPlaneHandlers,
) {
  const engine = await createEngine(config.engine, config.limits.upstreamTimeoutMs);
  // --max-spool bounds the disk of all processes together: with --workers, each takes its share.
  const spool = await Spool.open(config.limits.spoolDir, Math.floor(config.limits.maxSpoolBytes / config.workers), log);
  const forwarder = new Forwarder(cluster, engine, metrics, log, config.limits, spool, hooks);
  const server = createListener({ config, cluster, metrics, forwarder, handlers, log });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.listen.port, config.listen.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    server,
    engine,
    port: addr.port,
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${addr.port}`,
    listen: `${host}:${addr.port}`,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, config.limits.shutdownTimeoutMs).unref());
      await Promise.race([closed, deadline]);
      server.closeAllConnections();
      await engine.close();
      await forwarder.close();
    },
  };
}

/** One process doing everything (the default, `--workers 1`). */
export async function startApp(config: Config, log: Logger = createLogger(config.logLevel)): Promise<App> {
  const discovery = discoveryFor(config);
  checkUpstreams(config, discovery);
  const cluster = await newCluster(discovery);
  const metrics = createMetrics(cluster);
  const gate = new GroupGate();
  const ledger = newLedger(config);
  // The handover exists before the listener (pushes call into it), but starts once the port is known.
  let control: Awaited<ReturnType<typeof startControl>> | undefined;
  const hooks: PushHooks = { gate, outcomes: ledger, afterPush: (key, method, target) => control?.handover.afterPush(key, method, target) };
  const data = await startDataPlane(config, cluster, metrics, log, hooks, {
    rebalance: (dryRun) =>
      control ? control.handover.run({ dryRun }) : Promise.reject(new UnavailableError("dyshard is still starting; try again in a moment")),
    metrics: async () => ({ contentType: metrics.registry.contentType, text: await metrics.registry.metrics() }),
  });
  control = await startControl(config, cluster, metrics.registry, log, data.port, gate, ledger, discovery);
  log.info(
    {
      listen: data.listen,
      mode: config.mode,
      engine: data.engine.name,
      shard_by: config.shardBy,
      upstreams: cluster.active().map((m) => `${m.slot}=${m.url}`),
    },
    "dyshard listening",
  );

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Side by side, so that both fit in one --shutdown-timeout: a hung handover run does not
      // delay the drain of pushes, nor the other way round.
      await Promise.all([control?.stop(), data.stop()]);
      log.info("dyshard stopped");
    })());
  return { config, cluster, metrics, server: data.server, log, url: data.url, handover: control.handover, stop };
}

/** Engines are loaded only when chosen: a dyshard carries one in memory. */
async function createEngine(name: Config["engine"], timeoutMs: number): Promise<Engine> {
  switch (name) {
    case "undici":
      return new (await import("../proxy/undici-engine.js")).UndiciEngine(timeoutMs);
    case "native":
      return new (await import("../proxy/native-engine.js")).NativeEngine(timeoutMs);
    case "http-proxy":
      return new (await import("../proxy/http-proxy-engine.js")).HttpProxyEngine(timeoutMs);
  }
}
