// Wires the path of a push: discovery → membership & health → ring → router → forwarder, behind
// one listener.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "../config/schema.js";
import { createLogger, type Logger } from "../log.js";
import { Cluster } from "../membership/cluster.js";
import { HealthChecker } from "../membership/health-checker.js";
import { createMetrics, type Metrics } from "../metrics.js";
import type { Engine } from "../proxy/engine.js";
import { Forwarder } from "../proxy/forwarder.js";
import { HttpProxyEngine } from "../proxy/http-proxy-engine.js";
import { UndiciEngine } from "../proxy/undici-engine.js";
import { loadHash64 } from "../ring/hash.js";
import { createListener } from "./listener.js";
import { hostname } from "node:os";
import { createConsulClient } from "../discovery/consul-client.js";
import { ConsulLock } from "../discovery/consul-lock.js";
import { startDiscovery } from "../discovery/discovery.js";
import { GroupGate } from "../handover/gate.js";
import { Handover } from "../handover/handover.js";

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

export async function startApp(config: Config, log: Logger = createLogger(config.logLevel)): Promise<App> {
  const consulMode = config.discovery.type === "consul";
  if ((!consulMode || config.discovery.consul.register) && config.upstreams.filter((u) => !u.retired).length === 0) {
    throw new Error("no upstreams configured: give at least one --upstream URL (or upstreams: in the config file)");
  }
  // With Consul the membership is the catalog's, not the config's.
  const cluster = new Cluster(consulMode ? [] : config.upstreams, await loadHash64());
  const metrics = createMetrics(cluster);
  const checker = new HealthChecker(cluster, config.health);
  const consul = consulMode ? createConsulClient(config.discovery.consul) : undefined;
  const gate = new GroupGate();
  const lock = consul ? new ConsulLock(consul, { key: config.handover.lockKey || `dyshard/handover/${config.discovery.consul.service}`, ttlMs: config.handover.lockTtlMs, name: `dyshard handover ${hostname()}:${process.pid}` }, log) : undefined;
  const handover = new Handover(cluster, metrics.registry, log, { ...config.handover, intervalMs: config.handover.rebalanceIntervalMs, timeoutMs: config.limits.upstreamTimeoutMs, recentMs: config.handover.recentWindowMs, shardBy: config.shardBy }, gate, lock);
  const engine: Engine = config.engine === "http-proxy" ? new HttpProxyEngine(config.limits.upstreamTimeoutMs) : new UndiciEngine(config.limits.upstreamTimeoutMs);
  const forwarder = new Forwarder(cluster, engine, metrics, log, config.limits, { gate, afterPush: (key, method, target) => handover.afterPush(key, method, target) });
  const server = createListener({ config, cluster, metrics, forwarder, handover, log });

  cluster.on("change", ({ member, healthy, reason }) => {
    log.warn({ upstream: member.url, slot: member.slot, healthy, reason, healthy_members: cluster.healthyCount() }, healthy ? "upstream up" : "upstream down");
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.listen.port, config.listen.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const discovery = await startDiscovery(config, cluster, metrics, log, addr.port, consul);
  checker.start();
  handover.start();
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${addr.port}`;
  log.info({ listen: `${host}:${addr.port}`, mode: config.mode, engine: engine.name, shard_by: config.shardBy, upstreams: cluster.active().map((m) => `${m.slot}=${m.url}`) }, "dyshard listening");

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      checker.stop();
      await handover.stop();
      await discovery.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, config.limits.shutdownTimeoutMs).unref());
      await Promise.race([closed, deadline]);
      server.closeAllConnections();
      await engine.close();
      consul?.destroy();
      log.info("dyshard stopped");
    })());
  return { config, cluster, metrics, server, log, url, handover, stop };
}
