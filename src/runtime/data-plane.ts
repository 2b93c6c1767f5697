// The data plane: engine, forwarder and listener, on a membership kept up to date by the control
// plane (in this process, or mirrored from the primary's with --workers).
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "../config/schema.js";
import type { Logger } from "../core/logger.js";
import type { ControlHandlers } from "../http/context.js";
import { createListener } from "../http/listener.js";
import type { Membership } from "../membership/membership.js";
import type { Metrics } from "../metrics/catalogue.js";
import { createEngine } from "../proxy/engines/create-engine.js";
import type { Engine } from "../proxy/engines/engine.js";
import { Forwarder, type PushHooks } from "../proxy/forwarder.js";
import { PushgatewayClient } from "../pushgateway/client/pushgateway-client.js";
import { Spool } from "../proxy/spool.js";

export interface DataPlane {
  server: Server;
  engine: Engine;
  port: number;
  /** The address actually bound, as a URL (port 0 in the config picks a free one). */
  url: string;
  listen: string;
  stop(): Promise<void>;
}

export interface DataDeps {
  config: Config;
  membership: Membership;
  metrics: Metrics;
  log: Logger;
  hooks: PushHooks;
  control: ControlHandlers;
}

export async function startDataPlane({ config, membership, metrics, log, hooks, control }: DataDeps): Promise<DataPlane> {
  const engine = await createEngine(config.engine, config.limits.upstreamTimeoutMs);
  // --max-spool bounds the disk of all processes together: with --workers, each takes its share.
  const spool = await Spool.open(config.limits.spoolDir, Math.floor(config.limits.maxSpoolBytes / config.workers), log);
  const forwarder = new Forwarder(membership, engine, metrics, log, { ...config.limits, replicas: config.replicas }, spool, hooks);
  const upstreamApi = new PushgatewayClient({
    timeoutMs: config.limits.upstreamTimeoutMs,
    maxInventoryBytes: config.handover.maxInventoryBytes,
  });
  const server = createListener({ config, membership, metrics, forwarder, upstreamApi, control, log });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.listen.port, config.listen.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    server,
    engine,
    port: addr.port,
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${addr.port}`,
    listen: `${host}:${addr.port}`,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, config.limits.shutdownTimeoutMs).unref());
      await Promise.race([closed, deadline]);
      server.closeAllConnections();
      await engine.close();
      await forwarder.close();
      await upstreamApi.destroy();
    },
  };
}
