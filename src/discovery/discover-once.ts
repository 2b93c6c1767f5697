// The membership as it is now, read once: for commands that do not stay running (`dyshard rebalance`).
import type { Config } from "../config/schema.js";
import type { MemberSpec } from "../membership/cluster.js";
import type { ConsulClient } from "./consul-client.js";
import { membersFromHealth, type HealthEntry } from "./consul-catalog.js";
import { httpRequest } from "../http-client.js";

export async function discoverOnce(config: Config, consul?: ConsulClient): Promise<MemberSpec[]> {
  if (consul) {
    const c = config.discovery.consul;
    const entries = (await consul.health.service({ service: c.service, ...(c.tag ? { tag: c.tag } : {}) } as never)) as HealthEntry[];
    return membersFromHealth(entries).members;
  }
  // Static: one check of each upstream's /-/ready stands in for the active checks.
  return Promise.all(
    config.upstreams.map(async (u) => {
      if (u.retired) return { ...u };
      const ready = await httpRequest(`${u.url}/-/ready`, { timeoutMs: config.health.timeoutMs, maxBytes: 64 * 1024 })
        .then((r) => r.status === 200)
        .catch(() => false);
      return { ...u, discovered: ready, discoveryReason: ready ? "ready" : "not ready" };
    }),
  );
}
