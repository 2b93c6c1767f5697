// The control plane: health checks, discovery and the handover, deciding for the data plane of
// this process or, with --workers, of every worker (src/runtime/workers/primary.ts).
import type { Registry } from "prom-client";
import type { Config } from "../config/schema.js";
import type { Logger } from "../core/logger.js";
import type { DiscoveryProvider } from "../discovery/provider.js";
import { handoverFromConfig } from "../handover/from-config.js";
import type { MoveGate } from "../handover/gate.js";
import type { Handover } from "../handover/handover.js";
import { PushLedger } from "../handover/push-ledger.js";
import { HealthChecker } from "../health/health-checker.js";
import type { StatusView } from "../http/status-view.js";
import { HealthHistory } from "../membership/health-history.js";
import { Membership } from "../membership/membership.js";
import { scrapeMetrics } from "../metrics/catalogue.js";
import { PrometheusServers } from "../prometheus/prometheus-servers.js";
import type { ScrapeView } from "../prometheus/scrape-view.js";
import { loadHash64 } from "../routing/hash.js";
import { statusView } from "./status.js";
import { loadUpstreamAccess } from "../upstream/load-access.js";
import type { UpstreamAccess } from "../upstream/upstream-access.js";

export interface ControlPlane {
  handover: Handover;
  /** The Prometheus servers and their Pushgateways; undefined without --prometheus. */
  scrape(): ScrapeView | undefined;
  /** What the status page shows (GET /-/dyshard/status). */
  status(): StatusView;
  stop(): Promise<void>;
}

export function checkUpstreams(config: Config, discovery: DiscoveryProvider): void {
  if (discovery.requiresUpstreams && config.upstreams.filter((u) => !u.retired).length === 0) {
    throw new Error("no upstreams configured: give at least one --upstream URL (or upstreams: in the config file)");
  }
}

/** How this dyshard talks to its upstreams (files read once); an opted-out verification is said at start. */
export function upstreamAccess(config: Config, log: Logger): UpstreamAccess {
  const access = loadUpstreamAccess(config);
  if (config.upstreamTls.insecureSkipVerify)
    log.warn(
      "--upstream-insecure-skip-verify: the certificates of https upstreams are not verified; anyone on the path can read and change pushes",
    );
  // A URL spelled otherwise than its --upstream would silently get the default credential (static only: Consul's come later).
  const configured = new Set(config.upstreams.map((u) => u.url));
  const unknown = access.namedUpstreams().filter((url) => !configured.has(url));
  if (config.discovery.type === "static" && unknown.length > 0)
    log.warn({ upstreams: unknown }, "--upstream-auth-file names upstreams that are not configured; check their spelling");
  return access;
}

/** A membership as the discovery source starts it (with Consul: empty until the catalog answers). */
export async function newMembership(discovery: DiscoveryProvider): Promise<Membership> {
  return new Membership(discovery.initialMembers(), await loadHash64());
}

/** The pushes a dyshard could not acknowledge, as the handover consults them. */
export function newLedger(config: Config): PushLedger {
  return new PushLedger({ keepMs: config.handover.recentWindowMs, maxGroups: 100_000 });
}

export interface ControlDeps {
  config: Config;
  membership: Membership;
  registry: Registry;
  log: Logger;
  /** The port pushes are served on (registered in Consul). */
  boundPort: number;
  /** Holds pushes of the groups being moved. */
  gate: MoveGate;
  ledger: PushLedger;
  discovery: DiscoveryProvider;
  access: UpstreamAccess;
}

export async function startControl(deps: ControlDeps): Promise<ControlPlane> {
  const { config, membership, registry, log, discovery } = deps;
  const checker = new HealthChecker(membership, config.health, deps.access);
  const health = new HealthHistory(membership);
  const lock = await discovery.handoverLock("dyshard handover", log);
  const handover = handoverFromConfig(config, membership, registry, log, {
    gate: deps.gate,
    ledger: deps.ledger,
    access: deps.access,
    ...(lock ? { lock } : {}),
  });
  membership.on("change", ({ member, healthy, reason }) => {
    log.warn(
      { upstream: member.url, slot: member.slot, healthy, reason, healthy_members: membership.healthyCount() },
      healthy ? "upstream up" : "upstream down",
    );
  });
  const prometheus = await prometheusServers(deps);
  await discovery.watch(membership, registry, log, deps.boundPort);
  checker.start();
  handover.start();
  prometheus?.start();
  return {
    handover,
    scrape: () => prometheus?.view(),
    status: () => statusView(config, membership, health, handover, prometheus?.view()),
    async stop() {
      checker.stop();
      prometheus?.stop();
      await handover.stop();
      await discovery.stop();
    },
  };
}

/** With --prometheus: the servers, checked and logged as the Pushgateways are, and their metrics. */
async function prometheusServers({ config, membership, registry, log, access }: ControlDeps): Promise<PrometheusServers | undefined> {
  if (config.prometheus.length === 0) return undefined;
  const prometheus = new PrometheusServers(config, membership, await loadHash64(), access);
  prometheus.servers.on("change", ({ member, healthy, reason }) => {
    const name = config.prometheus.find((p) => p.slot === member.slot)?.name;
    log.warn({ prometheus: name, url: member.url, healthy, reason }, healthy ? "Prometheus server up" : "Prometheus server down");
  });
  scrapeMetrics(registry, () => prometheus.view());
  return prometheus;
}
