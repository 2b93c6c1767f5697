// The Pushgateways as Prometheus http_sd target groups (docs/facts/prometheus.md, "Service
// discovery"): one group per Pushgateway, in slot order (Prometheus identifies a group by its
// index), with what a relabel rule may need as __meta_dyshard_* labels. Pure.
import type { Member } from "../membership/member.js";
import { hashmod } from "./hashmod.js";

export interface TargetGroup {
  targets: [string];
  labels: Record<string, string>;
}

/** Which Pushgateways to list. */
export interface TargetFilter {
  healthyOnly?: boolean;
  /** Only the targets Prometheus server `index` of `of` keeps under the seed-002 rule (hashmod of `__address__`). */
  shard?: { index: number; of: number };
  /** Only these upstream URLs (a Prometheus server's allocation). */
  upstreams?: ReadonlySet<string>;
}

/** `host:port` of an upstream URL, the port always written (it is what hashmod reads as `__address__`). */
export function targetAddress(url: URL): string {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return `${url.hostname.includes(":") && !url.hostname.startsWith("[") ? `[${url.hostname}]` : url.hostname}:${port}`;
}

export function targetGroup(member: Pick<Member, "slot" | "url" | "healthy">): TargetGroup {
  const url = new URL(member.url);
  const labels: Record<string, string> = {
    __meta_dyshard_slot: String(member.slot),
    __meta_dyshard_upstream: member.url,
    __meta_dyshard_healthy: String(member.healthy),
  };
  const prefix = url.pathname.replace(/\/+$/, "");
  if (prefix !== "") labels.__metrics_path__ = `${prefix}/metrics`;
  if (url.protocol === "https:") labels.__scheme__ = "https";
  return { targets: [targetAddress(url)], labels };
}

export function targetGroups(members: readonly Member[], filter: TargetFilter = {}): TargetGroup[] {
  const { healthyOnly, shard, upstreams } = filter;
  return members
    .filter((m) => !m.retired && (!healthyOnly || m.healthy) && (!upstreams || upstreams.has(m.url)))
    .sort((a, b) => a.slot - b.slot)
    .map(targetGroup)
    .filter((g) => !shard || hashmod(g.targets, shard.of) === shard.index);
}
