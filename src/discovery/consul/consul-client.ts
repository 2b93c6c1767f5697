import type Consul from "consul";

export type ConsulClient = InstanceType<typeof Consul>;

export interface ConsulAddress {
  address: string;
  token: string;
  datacenter: string;
}

/**
 * A node-consul client for an address such as http://consul:8500 (call destroy() when done).
 * The package is loaded only here, so that a dyshard without Consul does not carry it in memory.
 */
export async function createConsulClient({ address, token, datacenter }: ConsulAddress): Promise<ConsulClient> {
  const { default: Consul } = await import("consul");
  const defaults: Record<string, string> = {};
  if (token) defaults.token = token;
  if (datacenter) defaults.dc = datacenter;
  return new Consul({ baseUrl: `${address.replace(/\/$/, "")}/v1`, defaults } as ConstructorParameters<typeof Consul>[0]);
}
