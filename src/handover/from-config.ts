// A Handover as the configuration describes it, for `serve` and for `dyshard rebalance` alike.
import type { Registry } from "prom-client";
import type { Config } from "../config/schema.js";
import type { Logger } from "../core/logger.js";
import type { Membership } from "../membership/membership.js";
import type { MoveGate } from "./gate.js";
import { expiryPolicy } from "./expiry.js";
import { Handover } from "./handover.js";
import type { HandoverLock } from "./handover-lock.js";
import type { PushLedger } from "./push-ledger.js";
import type { UpstreamAccess } from "../upstream/upstream-access.js";

export interface HandoverSetup {
  /** Where the discovery source has one (Consul): only the lock's holder runs the handover. */
  lock?: HandoverLock;
  /** Holds pushes during moves; absent where no push passes (the CLI). */
  gate?: MoveGate;
  /** A single run (the CLI): no sweep, no stale-copy deletes after pushes. */
  once?: boolean;
  /** The pushes this dyshard could not acknowledge (absent in the CLI). */
  ledger?: PushLedger;
  /** https verification and credentials for the Pushgateways (src/upstream/load-access.ts). */
  access?: UpstreamAccess;
}

export function handoverFromConfig(
  config: Config,
  membership: Membership,
  registry: Registry,
  log: Logger,
  setup: HandoverSetup,
): Handover {
  const h = config.handover;
  const options = {
    ...h,
    intervalMs: setup.once ? 0 : h.rebalanceIntervalMs,
    recentMs: setup.once ? 0 : h.recentWindowMs,
    timeoutMs: config.limits.upstreamTimeoutMs,
    shutdownTimeoutMs: config.limits.shutdownTimeoutMs,
    shardBy: config.shardBy,
    replicas: config.replicas,
    ...(setup.access ? { access: setup.access } : {}),
  };
  const ttlS = expiryPolicy(config.groupTtl.defaultMs, config.groupTtl.byJobMs);
  return new Handover(membership, registry, log, ttlS ? { ...options, ttlS } : options, setup.gate, setup.lock, setup.ledger);
}
