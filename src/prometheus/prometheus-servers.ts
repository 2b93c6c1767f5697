// The Prometheus servers of --prometheus: a membership of their own, checked on /-/ready with the
// same rise/fall as the Pushgateways, and the allocation of the Pushgateways over the healthy
// ones, made again whenever either ring changes. When none is healthy, each keeps what it had: a
// Pushgateway is never left unscraped by every server because dyshard lost sight of them.
import type { Config } from "../config/schema.js";
import { HealthChecker } from "../health/health-checker.js";
import { Membership } from "../membership/membership.js";
import type { Hash64 } from "../routing/hash.js";
import { UpstreamAccess } from "../upstream/upstream-access.js";
import { allocate, type Allocation } from "./scrape-allocation.js";
import type { ScrapeView } from "./scrape-view.js";

export class PrometheusServers {
  readonly servers: Membership;
  private readonly replicas: number;
  private readonly names: string[] = [];
  private readonly checker: HealthChecker;
  private current: Allocation;

  constructor(
    config: Pick<Config, "prometheus" | "scrapeReplicas" | "health">,
    private readonly pushgateways: Membership,
    hash: Hash64,
    /** The upstreams' trust for https servers; their credential is not sent to a Prometheus server. */
    access = UpstreamAccess.DEFAULT,
  ) {
    for (const p of config.prometheus) this.names[p.slot] = p.name;
    // Every server is taken as healthy until its checks say otherwise, as the Pushgateways are.
    this.servers = new Membership(
      config.prometheus.map((p) => ({ slot: p.slot, url: p.url })),
      hash,
    );
    this.replicas = config.scrapeReplicas;
    this.checker = new HealthChecker(this.servers, config.health, access.withoutCredentials());
    this.current = this.allocate();
    this.servers.on("ring", () => this.reallocate());
    pushgateways.on("ring", () => this.reallocate());
  }

  start(): void {
    this.checker.start();
  }

  stop(): void {
    this.checker.stop();
  }

  view(): ScrapeView {
    return {
      replicas: this.replicas,
      servers: this.servers.active().map((m) => ({
        name: this.names[m.slot] as string,
        url: m.url,
        slot: m.slot,
        healthy: m.healthy,
        since: new Date(m.since).toISOString(),
        reason: m.reason,
        targets: this.current.get(m.slot) ?? [],
      })),
    };
  }

  private reallocate(): void {
    if (this.servers.ring.healthySlots.length > 0) this.current = this.allocate();
  }

  private allocate(): Allocation {
    return allocate(
      this.pushgateways.active().map((m) => m.url),
      this.servers.ring,
      this.replicas,
    );
  }
}
