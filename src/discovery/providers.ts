// The discovery sources by name (config `discovery.type`): the one place that tells them apart.
import type { Config } from "../config/schema.js";
import { ConsulProvider } from "./consul/consul-provider.js";
import type { DiscoveryProvider } from "./provider.js";
import { StaticProvider } from "./static/static-provider.js";
import { UpstreamAccess } from "../upstream/upstream-access.js";

const PROVIDERS: Record<Config["discovery"]["type"], new (config: Config, access: UpstreamAccess) => DiscoveryProvider> = {
  static: StaticProvider,
  consul: ConsulProvider,
};

/** The provider for this config; it makes no connection until asked to read or watch (the static one's check of the upstreams goes with `access`). */
export function discoveryFor(config: Config, access = UpstreamAccess.DEFAULT): DiscoveryProvider {
  return new PROVIDERS[config.discovery.type](config, access);
}
