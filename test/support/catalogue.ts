// Every metric dyshard registers, by name with its label names: the catalogue of src/metrics/ as
// one process of each kind would register it.
import type { Registry } from "prom-client";
import { Membership } from "../../src/membership/membership.js";
import { controlMetrics, dataMetrics, discoveryMetrics, handoverMetrics, scrapeMetrics } from "../../src/metrics/catalogue.js";
import { loadHash64 } from "../../src/routing/hash.js";

export async function catalogue(registry: Registry): Promise<Map<string, string[]>> {
  const membership = new Membership([{ slot: 0, url: "http://pg:9091" }], await loadHash64());
  dataMetrics(membership, registry);
  controlMetrics(membership, registry);
  handoverMetrics(registry);
  discoveryMetrics(registry, () => 0);
  scrapeMetrics(registry, () => ({ replicas: 1, servers: [] }));
  const labels = (m: unknown) => [...((m as { labelNames?: readonly string[] }).labelNames ?? [])];
  return new Map(registry.getMetricsAsArray().map((m) => [m.name, labels(m)]));
}
