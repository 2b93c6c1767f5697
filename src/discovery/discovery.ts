// Where membership comes from. Static: the configured upstreams, fixed. Consul: the catalog,
// followed with blocking queries, optionally after registering the configured upstreams.
import type { Logger } from "pino";
import type { Config } from "../config/schema.js";
import type { Cluster } from "../membership/cluster.js";
import type { Registry } from "prom-client";
import type { ConsulClient } from "./consul-client.js";
import { ConsulDiscovery } from "./consul-discovery.js";
import { ConsulRegistrar, defaultAdvertise } from "./consul-registrar.js";

export interface Discovery {
  stop(): Promise<void>;
}

/** How long startup waits for Consul's first answer before serving with an empty ring (503s). */
const FIRST_ANSWER_MS = 5000;

/** `consul` is given in Consul mode; its owner destroys it. */
export async function startDiscovery(
  config: Config,
  cluster: Cluster,
  registry: Registry,
  log: Logger,
  boundPort: number,
  consul?: ConsulClient,
): Promise<Discovery> {
  if (!consul) return { stop: async () => {} };

  const c = config.discovery.consul;
  let registrar: ConsulRegistrar | undefined;
  if (c.register) {
    registrar = new ConsulRegistrar(
      consul,
      config.upstreams,
      { ...c, advertise: c.advertise || defaultAdvertise(config.listen.host, boundPort) },
      log,
    );
    await registrar
      .sync()
      .catch((err: Error) => log.warn({ err: err.message, consul: c.address }, "Consul registration failed; will retry"));
    registrar.start();
  }
  const discovery = new ConsulDiscovery(consul, cluster, registry, log, c);
  discovery.start();
  const first = await Promise.race([
    discovery.ready.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), FIRST_ANSWER_MS).unref()),
  ]);
  if (!first) log.warn({ consul: c.address, service: c.service }, "no answer from Consul yet: serving 503 until it answers");
  log.info(
    { consul: c.address, service: c.service, members: cluster.active().map((m) => `${m.slot}=${m.url}${m.healthy ? "" : " (down)"}`) },
    "following Consul",
  );
  return {
    async stop() {
      discovery.stop();
      await registrar?.stop();
    },
  };
}
