// Where membership comes from, as one interface (types only): the rest of dyshard asks a provider,
// never which kind it is. Add a source by implementing this and naming it in providers.ts.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { HandoverLock } from "../handover/handover-lock.js";
import type { Membership, MemberSpec } from "../membership/membership.js";

export interface DiscoveryProvider {
  /** Whether `upstreams:` must list at least one Pushgateway for this source. */
  readonly requiresUpstreams: boolean;
  /** The members a ring starts with, before the source has said anything. */
  initialMembers(): MemberSpec[];
  /** The membership as it is now, read once (commands that do not stay running). */
  once(): Promise<MemberSpec[]>;
  /** Keeps `membership` up to date until stop(); resolves once it has a first view (or gave up waiting). */
  watch(membership: Membership, registry: Registry, log: Logger, boundPort: number): Promise<void>;
  /** The one-at-a-time handover lock, where several dyshards share this source (none otherwise). */
  handoverLock(who: string, log: Logger): Promise<HandoverLock | undefined>;
  stop(): Promise<void>;
}
