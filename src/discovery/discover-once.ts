// The membership as it is now, read once: for commands that do not stay running (`dyshard rebalance`).
import { request } from "undici";
import type { Config } from "../config/schema.js";
import type { MemberSpec } from "../membership/cluster.js";
import type { ConsulClient } from "./consul-client.js";
import { membersFromHealth, type HealthEntry } from "./consul-catalog.js";

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
      const ready = await request(`${u.url}/-/ready`, { headersTimeout: config.health.timeoutMs, bodyTimeout: config.health.timeoutMs })
        .then(async (r) => (await r.body.dump(), r.statusCode === 200))
        .catch(() => false);
      return { ...u, discovered: ready, discoveryReason: ready ? "ready" : "not ready" };
    }),
  );
}
