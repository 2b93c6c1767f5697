// Follows the Pushgateways' health in Consul with blocking queries (node-consul's watch) and
// hands each answer to the Membership at once. When Consul is unreachable or answers errors the ring
// keeps the last known membership while the watch retries with backoff.
import type { Logger } from "pino";
import type { Counter, Registry } from "prom-client";
import type { Membership } from "../../membership/membership.js";
import { discoveryMetrics } from "../../metrics/catalogue.js";
import type { ConsulClient } from "./consul-client.js";
import { membersFromHealth, type HealthEntry } from "./consul-catalog.js";

export interface ConsulDiscoveryOptions {
  service: string;
  tag: string;
  waitMs: number;
}

export class ConsulDiscovery {
  private watch: ReturnType<ConsulClient["watch"]> | undefined;
  private stopped = false;
  private readonly errors: Counter;
  private lastSuccessMs = 0;
  private firstAnswer!: () => void;
  /** Resolves on the first successful answer. */
  readonly ready = new Promise<void>((resolve) => (this.firstAnswer = resolve));

  constructor(
    private readonly consul: ConsulClient,
    private readonly membership: Membership,
    registry: Registry,
    private readonly log: Logger,
    private readonly opts: ConsulDiscoveryOptions,
    /** Told of every answer (the registrar re-registers what Consul lost). */
    private readonly onAnswer: (entries: HealthEntry[]) => void = () => undefined,
  ) {
    // A blocking query that times out unchanged is a success too, but emits no "change".
    const lastSuccess = () => (this.lastSuccessMs = Math.max(this.lastSuccessMs, this.watch?.updateTime() ?? 0));
    this.errors = discoveryMetrics(registry, lastSuccess).errors;
  }

  start(): void {
    if (this.stopped || this.watch) return;
    const options: Record<string, unknown> = { service: this.opts.service, wait: `${Math.round(this.opts.waitMs)}ms` };
    if (this.opts.tag) options.tag = this.opts.tag;
    const watch = this.consul.watch({
      method: this.consul.health.service,
      options: options as never,
      backoffFactor: 100,
      backoffMax: 5000,
    });
    this.watch = watch;
    watch.on("change", (data: unknown) => this.apply(data as HealthEntry[]));
    watch.on("error", (err: Error & { statusCode?: number }) => {
      this.errors.inc();
      this.log.warn(
        { err: err.message, status: err.statusCode, healthy_members: this.membership.healthyCount() },
        "Consul health query failed; routing on the last known membership",
      );
    });
    // node-consul ends a watch for good on some answers (a 400, no X-Consul-Index): start anew.
    watch.on("end", () => {
      this.lastSuccessMs = Math.max(this.lastSuccessMs, watch.updateTime() ?? 0);
      this.watch = undefined;
      if (!this.stopped) setTimeout(() => this.start(), 1000).unref();
    });
  }

  stop(): void {
    this.stopped = true;
    this.watch?.end();
  }

  private apply(answer: HealthEntry[]): void {
    const entries = Array.isArray(answer) ? answer : [];
    this.onAnswer(entries);
    const { members, warnings } = membersFromHealth(entries);
    for (const w of warnings) this.log.warn(w);
    this.membership.update(members);
    this.lastSuccessMs = Date.now();
    this.firstAnswer();
  }
}
