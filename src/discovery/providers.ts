// The discovery sources by name (config `discovery.type`): the one place that tells them apart.
import type { Config } from "../config/schema.js";
import { ConsulProvider } from "./consul/consul-provider.js";
import type { DiscoveryProvider } from "./provider.js";
import { StaticProvider } from "./static/static-provider.js";

const PROVIDERS: Record<Config["discovery"]["type"], new (config: Config) => DiscoveryProvider> = {
  static: StaticProvider,
  consul: ConsulProvider,
};

/** The provider for this config; it makes no connection until asked to read or watch. */
export function discoveryFor(config: Config): DiscoveryProvider {
  return new PROVIDERS[config.discovery.type](config);
}
