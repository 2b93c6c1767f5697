// `--consul-register`: dyshard registers each configured Pushgateway in Consul (stable ID, slot in
// Meta, HTTP check on /-/healthy) and itself (service `dyshard`, check on its /-/ready).
// Idempotent: a registration that Consul already holds is left alone, so restarting a dyshard, or
// running several with one config, changes nothing (re-registering would reset check states).
// It runs again periodically, so instances reaped by DeregisterCriticalServiceAfter, or lost
// with a Consul agent, come back.
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { UpstreamConfig } from "../../config/schema.js";
import { formatDuration } from "../../config/units.js";
import type { ConsulClient } from "./consul-client.js";

export interface RegistrarOptions {
  service: string;
  tag: string;
  checkIntervalMs: number;
  checkTimeoutMs: number;
  deregisterCriticalAfterMs: number;
  /** HOST:PORT of this dyshard. */
  advertise: string;
}

interface Registration {
  id: string;
  name: string;
  address: string;
  port: number;
  tags: string[];
  meta: Record<string, string>;
  check: { name: string; http: string; interval: string; timeout: string; deregistercriticalserviceafter?: string };
}

/** The Consul service for a configured upstream. Pure. */
export function upstreamRegistration(u: UpstreamConfig, o: RegistrarOptions): Registration {
  const url = new URL(u.url);
  return withCheck(
    {
      id: `${o.service}-slot-${u.slot}`,
      name: o.service,
      address: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
      tags: o.tag ? [o.tag] : [],
      meta: { dyshard_slot: String(u.slot), dyshard_url: u.url },
    },
    `${u.url}/-/healthy`,
    o,
  );
}

/** dyshard's own Consul service. Pure. */
export function selfRegistration(o: RegistrarOptions): Registration {
  const [host, port] = splitHostPort(o.advertise);
  return withCheck(
    { id: `dyshard-${host}-${port}`, name: "dyshard", address: host, port, tags: [], meta: { dyshard_upstream_service: o.service } },
    `http://${o.advertise}/-/ready`,
    o,
  );
}

function withCheck(r: Omit<Registration, "check">, http: string, o: RegistrarOptions): Registration {
  const interval = formatDuration(o.checkIntervalMs);
  const timeout = formatDuration(o.checkTimeoutMs);
  const check: Registration["check"] = { name: `dyshard: GET ${http} every ${interval}, timeout ${timeout}`, http, interval, timeout };
  if (o.deregisterCriticalAfterMs > 0) {
    check.deregistercriticalserviceafter = formatDuration(o.deregisterCriticalAfterMs);
    check.name += `, deregister after ${check.deregistercriticalserviceafter} critical`;
  }
  return { ...r, check };
}

export function defaultAdvertise(listenHost: string, listenPort: number): string {
  const host = listenHost === "0.0.0.0" || listenHost === "::" ? hostname() : listenHost;
  return `${host}:${listenPort}`;
}

function splitHostPort(hp: string): [string, number] {
  const i = hp.lastIndexOf(":");
  return [hp.slice(0, i).replace(/^\[|\]$/g, ""), Number(hp.slice(i + 1))];
}

export class ConsulRegistrar {
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<unknown> | undefined;

  constructor(
    private readonly consul: ConsulClient,
    private readonly upstreams: UpstreamConfig[],
    private readonly opts: RegistrarOptions,
    private readonly log: Logger,
  ) {}

  /** Registers what is missing or changed; deregisters retired upstreams. Returns what it changed. */
  async sync(): Promise<string[]> {
    const [services, checks] = (await Promise.all([this.consul.agent.service.list(), this.consul.agent.check.list()])) as [
      Record<string, AgentService>,
      Record<string, AgentCheck>,
    ];
    const changed: string[] = [];
    const wanted = [
      ...this.upstreams.filter((u) => !u.retired).map((u) => upstreamRegistration(u, this.opts)),
      selfRegistration(this.opts),
    ];
    for (const r of wanted) {
      if (holds(services[r.id], checks, r)) continue;
      await this.consul.agent.service.register(r as never);
      changed.push(`registered ${r.id}`);
    }
    for (const u of this.upstreams.filter((u) => u.retired)) {
      const id = upstreamRegistration(u, this.opts).id;
      if (!services[id]) continue;
      await this.consul.agent.service.deregister(id);
      changed.push(`deregistered retired ${id}`);
    }
    if (changed.length) this.log.info({ changed }, "Consul registrations updated");
    return changed;
  }

  /**
   * Syncs now when Consul's answer lacks an upstream this dyshard registers: a Consul back without
   * its state (a dev agent, a wiped data directory) would otherwise route nothing until the
   * periodic sync. One sync at a time.
   */
  resyncIfMissing(ids: string[]): void {
    if (this.syncing) return;
    const present = new Set(ids);
    if (this.upstreams.every((u) => u.retired || present.has(upstreamRegistration(u, this.opts).id))) return;
    this.syncing = this.sync()
      .catch((err: Error) => this.log.warn({ err: err.message }, "Consul registration failed; will retry"))
      .finally(() => (this.syncing = undefined));
  }

  start(everyMs = 30_000): void {
    const run = () =>
      void this.sync()
        .catch((err: Error) => this.log.warn({ err: err.message }, "Consul registration failed; will retry"))
        .finally(() => this.timer?.refresh());
    this.timer = setTimeout(run, everyMs);
    this.timer.unref();
  }

  /** Stops the periodic sync and deregisters this dyshard, and only it. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    const id = selfRegistration(this.opts).id;
    await this.consul.agent.service
      .deregister(id)
      .catch((err: Error) => this.log.warn({ err: err.message, id }, "could not deregister from Consul"));
  }
}

interface AgentService {
  ID: string;
  Service: string;
  Address: string;
  Port: number;
  Tags?: string[] | null;
  Meta?: Record<string, string> | null;
}
interface AgentCheck {
  CheckID: string;
  Name: string;
  ServiceID: string;
}

function holds(s: AgentService | undefined, checks: Record<string, AgentCheck>, r: Registration): boolean {
  if (!s) return false;
  const same =
    s.Service === r.name &&
    s.Address === r.address &&
    s.Port === r.port &&
    JSON.stringify([...(s.Tags ?? [])].sort()) === JSON.stringify([...r.tags].sort()) &&
    JSON.stringify(sortKeys(s.Meta ?? {})) === JSON.stringify(sortKeys(r.meta));
  // The check's name spells out its URL, interval, timeout and reaping: same name, same check.
  return same && Object.values(checks).some((c) => c.ServiceID === r.id && c.Name === r.check.name);
}

function sortKeys(o: Record<string, string>): [string, string][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1));
}
