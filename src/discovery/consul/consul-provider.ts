// Consul membership: the catalog's passing instances, followed with blocking queries, optionally
// after registering the configured upstreams (and this dyshard) there. The handover's lock is a
// Consul session, so several dyshards on one catalog run it one at a time.
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Config } from "../../config/schema.js";
import type { HandoverLock } from "../../handover/handover-lock.js";
import type { Membership, MemberSpec } from "../../membership/membership.js";
import { membersFromHealth, type HealthEntry } from "./consul-catalog.js";
import { createConsulClient, type ConsulClient } from "./consul-client.js";
import { ConsulDiscovery } from "./consul-discovery.js";
import { ConsulLock } from "../../handover/consul-lock.js";
import { ConsulRegistrar, defaultAdvertise } from "./consul-registrar.js";
import type { DiscoveryProvider } from "../provider.js";

/** How long startup waits for Consul's first answer before serving with an empty ring (503s). */
const FIRST_ANSWER_MS = 5000;

export class ConsulProvider implements DiscoveryProvider {
  readonly requiresUpstreams: boolean;
  private client: Promise<ConsulClient> | undefined;
  private discovery: ConsulDiscovery | undefined;
  private registrar: ConsulRegistrar | undefined;

  constructor(private readonly config: Config) {
    this.requiresUpstreams = config.discovery.consul.register;
  }

  /** Nothing until the catalog answers: its slots, not the file's, are the truth. */
  initialMembers(): MemberSpec[] {
    return [];
  }

  async once(): Promise<MemberSpec[]> {
    const c = this.config.discovery.consul;
    const consul = await this.consul();
    const entries = (await consul.health.service({ service: c.service, ...(c.tag ? { tag: c.tag } : {}) } as never)) as HealthEntry[];
    return membersFromHealth(entries).members;
  }

  async watch(membership: Membership, registry: Registry, log: Logger, boundPort: number): Promise<void> {
    const c = this.config.discovery.consul;
    const consul = await this.consul();
    if (c.register) {
      const advertise = c.advertise || defaultAdvertise(this.config.listen.host, boundPort);
      this.registrar = new ConsulRegistrar(consul, this.config.upstreams, { ...c, advertise }, log);
      await this.registrar
        .sync()
        .catch((err: Error) => log.warn({ err: err.message, consul: c.address }, "Consul registration failed; will retry"));
      this.registrar.start();
    }
    const registrar = this.registrar;
    const onAnswer = registrar ? (entries: HealthEntry[]) => registrar.resyncIfMissing(entries.map((e) => e.Service.ID)) : undefined;
    const discovery = (this.discovery = new ConsulDiscovery(consul, membership, registry, log, c, onAnswer));
    discovery.start();
    const first = await Promise.race([
      discovery.ready.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), FIRST_ANSWER_MS).unref()),
    ]);
    if (!first) log.warn({ consul: c.address, service: c.service }, "no answer from Consul yet: serving 503 until it answers");
    log.info(
      { consul: c.address, service: c.service, members: membership.active().map((m) => `${m.slot}=${m.url}${m.healthy ? "" : " (down)"}`) },
      "following Consul",
    );
  }

  async handoverLock(who: string, log: Logger): Promise<HandoverLock> {
    const h = this.config.handover;
    const key = h.lockKey || `dyshard/handover/${this.config.discovery.consul.service}`;
    return new ConsulLock(await this.consul(), { key, ttlMs: h.lockTtlMs, name: `${who} ${hostname()}:${process.pid}` }, log);
  }

  async stop(): Promise<void> {
    this.discovery?.stop();
    await this.registrar?.stop();
    (await this.client)?.destroy();
  }

  private consul(): Promise<ConsulClient> {
    return (this.client ??= createConsulClient(this.config.discovery.consul));
  }
}
