// One process doing everything (the default, `--workers 1`): the push path
// discovery → membership & health → ring → router → forwarder behind one listener.
import type { Server } from "node:http";
import type { Config } from "../config/schema.js";
import { createLogger, type Logger } from "../core/logger.js";
import { UnavailableError } from "../core/unavailable-error.js";
import { discoveryFor } from "../discovery/providers.js";
import { GroupGate } from "../handover/gate.js";
import type { Handover } from "../handover/handover.js";
import type { Membership } from "../membership/membership.js";
import { createMetrics, type Metrics } from "../metrics/catalogue.js";
import type { PushHooks } from "../proxy/forwarder.js";
import { checkUpstreams, newLedger, newMembership, startControl, upstreamAccess, type ControlPlane } from "./control-plane.js";
import { startDataPlane } from "./data-plane.js";

export interface App {
  config: Config;
  handover: Handover;
  membership: Membership;
  metrics: Metrics;
  server: Server;
  log: Logger;
  /** The address actually bound (port 0 in the config picks a free one). */
  url: string;
  /** SIGHUP: --tls-cert and --tls-key read again (false: the old pair kept, or no TLS). */
  reload(): boolean;
  /** Stops accepting, lets in-flight requests finish (bounded by the shutdown timeout), closes pools. */
  stop(): Promise<void>;
}

export async function startApp(config: Config, log: Logger = createLogger(config.logLevel)): Promise<App> {
  const access = upstreamAccess(config, log);
  const discovery = discoveryFor(config, access);
  checkUpstreams(config, discovery);
  const membership = await newMembership(discovery);
  const metrics = createMetrics(membership);
  const gate = new GroupGate();
  const ledger = newLedger(config);
  // The handover exists before the listener (pushes call into it), but starts once the port is known.
  let control: ControlPlane | undefined;
  const hooks: PushHooks = { gate, outcomes: ledger, afterPush: (key, method, target) => control?.handover.afterPush(key, method, target) };
  const starting = () => new UnavailableError("dyshard is still starting; try again in a moment");
  const data = await startDataPlane({
    config,
    membership,
    metrics,
    log,
    hooks,
    access,
    control: {
      rebalance: (dryRun) => (control ? control.handover.run({ dryRun }) : Promise.reject(starting())),
      metrics: async () => ({ contentType: metrics.registry.contentType, text: await metrics.registry.metrics() }),
      scrape: () => (control ? Promise.resolve(control.scrape()) : Promise.reject(starting())),
      status: () => (control ? Promise.resolve(control.status()) : Promise.reject(starting())),
    },
  });
  control = await startControl({
    config,
    membership,
    registry: metrics.registry,
    log,
    boundPort: data.port,
    gate,
    ledger,
    discovery,
    access,
  });
  log.info(
    {
      listen: data.listen,
      mode: config.mode,
      engine: data.engine.name,
      shard_by: config.shardBy,
      max_connections: metrics.connections.max,
      upstreams: membership.active().map((m) => `${m.slot}=${m.url}`),
    },
    "dyshard listening",
  );

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Side by side, so that both fit in one --shutdown-timeout: a hung handover run does not
      // delay the drain of pushes, nor the other way round.
      await Promise.all([control?.stop(), data.stop()]);
      log.info("dyshard stopped");
    })());
  const reload = data.reloadTls;
  return { config, membership, metrics, server: data.server, log, url: data.url, handover: control.handover, reload, stop };
}
