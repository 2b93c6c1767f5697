// Static membership: the configured upstreams, fixed; their health is dyshard's own checks'.
import { request } from "undici";
import type { Config } from "../../config/schema.js";
import type { MemberSpec } from "../../membership/membership.js";
import type { DiscoveryProvider } from "../provider.js";
import { UpstreamAccess } from "../../upstream/upstream-access.js";

export class StaticProvider implements DiscoveryProvider {
  readonly requiresUpstreams = true;

  constructor(
    private readonly config: Config,
    private readonly access: UpstreamAccess = UpstreamAccess.DEFAULT,
  ) {}

  initialMembers(): MemberSpec[] {
    return this.config.upstreams;
  }

  /** One check of each upstream's /-/ready stands in for the active checks. */
  once(): Promise<MemberSpec[]> {
    const timeoutMs = this.config.health.timeoutMs;
    return Promise.all(
      this.config.upstreams.map(async (u) => {
        if (u.retired) return { ...u };
        const ready = await request(`${u.url}/-/ready`, {
          dispatcher: this.access.dispatcher,
          headers: this.access.headerObject(u.url),
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        })
          .then(async (r) => (await r.body.dump(), r.statusCode === 200))
          .catch(() => false);
        return { ...u, discoveryHealthy: ready, discoveryReason: ready ? "ready" : "not ready" };
      }),
    );
  }

  async watch(): Promise<void> {}

  async handoverLock(): Promise<undefined> {
    return undefined;
  }

  async stop(): Promise<void> {}
}
