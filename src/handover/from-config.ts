// A Handover as the configuration describes it, for `serve` and for `dyshard rebalance` alike.
import { hostname } from "node:os";
import type { Registry } from "prom-client";
import type { Config } from "../config/schema.js";
import type { ConsulClient } from "../discovery/consul-client.js";
import { ConsulLock } from "../discovery/consul-lock.js";
import type { Logger } from "../log.js";
import type { Cluster } from "../membership/cluster.js";
import type { MoveGate } from "./gate.js";
import { Handover } from "./handover.js";
import type { PushLedger } from "./push-ledger.js";

export interface HandoverSetup {
  /** Present in Consul mode: only the holder of the lock runs the handover. */
  consul?: ConsulClient;
  /** Holds pushes during moves; absent where no push passes (the CLI). */
  gate?: MoveGate;
  /** Names the lock's holder, e.g. "dyshard handover". */
  who: string;
  /** A single run (the CLI): no sweep, no stale-copy deletes after pushes. */
  once?: boolean;
  /** The pushes this dyshard could not acknowledge (absent in the CLI). */
  ledger?: PushLedger;
}

export function handoverFromConfig(config: Config, cluster: Cluster, registry: Registry, log: Logger, setup: HandoverSetup): Handover {
  const h = config.handover;
  const lock = setup.consul
    ? new ConsulLock(
        setup.consul,
        {
          key: h.lockKey || `dyshard/handover/${config.discovery.consul.service}`,
          ttlMs: h.lockTtlMs,
          name: `${setup.who} ${hostname()}:${process.pid}`,
        },
        log,
      )
    : undefined;
  const options = {
    ...h,
    intervalMs: setup.once ? 0 : h.rebalanceIntervalMs,
    recentMs: setup.once ? 0 : h.recentWindowMs,
    timeoutMs: config.limits.upstreamTimeoutMs,
    shutdownTimeoutMs: config.limits.shutdownTimeoutMs,
    shardBy: config.shardBy,
  };
  return new Handover(cluster, registry, log, options, setup.gate, lock, setup.ledger);
}
