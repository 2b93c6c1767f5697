// dyshard's whole metric catalogue, for the SREs who run it: every metric is defined in this
// folder, in the part of the process that counts it. One registry per server, so tests can run
// several. With --workers each part lives once: pushes in every worker (summed), health, ring
// changes, the handover, discovery and the scrape allocation in the primary.
import { Registry } from "prom-client";
import type { Membership } from "../membership/membership.js";
import { controlMetrics } from "./control-metrics.js";
import { dataMetrics, type Metrics } from "./push-metrics.js";

export { controlMetrics } from "./control-metrics.js";
export { discoveryMetrics } from "./discovery-metrics.js";
export { handoverMetrics, type HandoverMetrics } from "./handover-metrics.js";
export { dataMetrics, type Metrics } from "./push-metrics.js";
export { scrapeMetrics } from "./scrape-metrics.js";

/** The push and control parts on one registry: a single dyshard process. */
export function createMetrics(membership: Membership, registry = new Registry()): Metrics {
  controlMetrics(membership, registry);
  return dataMetrics(membership, registry);
}
