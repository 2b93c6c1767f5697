// The data plane: engine, forwarder and listener, on a membership kept up to date by the control
// plane (in this process, or mirrored from the primary's with --workers).
import type { Server } from "node:http";
import type https from "node:https";
import type { AddressInfo } from "node:net";
import { loadGuards } from "../auth/guards.js";
import type { Config } from "../config/schema.js";
import type { Logger } from "../core/logger.js";
import type { ControlHandlers } from "../http/context.js";
import { createListener } from "../http/listener.js";
import { ServingTls } from "../http/serving-tls.js";
import type { Membership } from "../membership/membership.js";
import type { Metrics } from "../metrics/catalogue.js";
import { createEngine } from "../proxy/engines/create-engine.js";
import type { Engine } from "../proxy/engines/engine.js";
import { Forwarder, type PushHooks } from "../proxy/forwarder.js";
import { PushgatewayClient } from "../pushgateway/client/pushgateway-client.js";
import { Spool } from "../proxy/spool.js";
import type { UpstreamAccess } from "../upstream/upstream-access.js";

export interface DataPlane {
  server: Server;
  engine: Engine;
  port: number;
  /** The address actually bound, as a URL (port 0 in the config picks a free one). */
  url: string;
  listen: string;
  /** SIGHUP: reads --tls-cert and --tls-key again for new connections (false: kept the old pair, or no TLS). */
  reloadTls(): boolean;
  stop(): Promise<void>;
}

export interface DataDeps {
  config: Config;
  membership: Membership;
  metrics: Metrics;
  log: Logger;
  hooks: PushHooks;
  control: ControlHandlers;
  access: UpstreamAccess;
}

export async function startDataPlane({ config, membership, metrics, log, hooks, control, access }: DataDeps): Promise<DataPlane> {
  const guards = loadGuards(config.auth); // first: a bad auth file stops start-up before anything is opened
  const tls = ServingTls.load(config.tls); // so does a bad certificate pair
  const engine = await createEngine(config.engine, config.limits.upstreamTimeoutMs, access);
  // --max-spool bounds the disk of all processes together: with --workers, each takes its share.
  const spool = await Spool.open(config.limits.spoolDir, Math.floor(config.limits.maxSpoolBytes / config.workers), log);
  const forwarder = new Forwarder(membership, engine, metrics, log, { ...config.limits, replicas: config.replicas }, spool, hooks);
  const upstreamApi = new PushgatewayClient(
    { timeoutMs: config.limits.upstreamTimeoutMs, maxInventoryBytes: config.handover.maxInventoryBytes },
    access,
  );
  const server = createListener({ config, membership, metrics, forwarder, upstreamApi, control, log, guards }, tls?.pair);
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
    url: `${tls ? "https" : "http"}://${host === "0.0.0.0" ? "127.0.0.1" : host}:${addr.port}`,
    listen: `${host}:${addr.port}`,
    reloadTls: () => (tls ? tls.reload(server as https.Server, log) : false),
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
