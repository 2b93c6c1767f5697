// Consul discovery's metrics: failed health queries and the time of the last good answer.
import { Counter, Gauge, type Registry } from "prom-client";

/** `lastSuccessMs` is read when scraped (epoch ms, 0 before the first answer). */
export function discoveryMetrics(registry: Registry, lastSuccessMs: () => number) {
  const errors = new Counter({
    name: "dyshard_discovery_errors_total",
    help: "Failed Consul health queries (the ring keeps its last membership meanwhile).",
    registers: [registry],
  });
  const gauge: Gauge = new Gauge({
    name: "dyshard_discovery_last_success_timestamp_seconds",
    help: "Unix time of the last successful Consul health answer (0 before the first).",
    registers: [registry],
    collect: () => gauge.set(lastSuccessMs() / 1000),
  });
  return { errors };
}
