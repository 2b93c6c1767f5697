// Client connections (--max-connections): counted by the listener in plain numbers
// (src/http/connection-limit.ts), read only when scraped. With --workers each worker's are
// summed, so the limit shown is the sum of the workers' shares.
import { Counter, Gauge, type Registry } from "prom-client";

/** Plain numbers the listener counts in and the metrics read. */
export interface ConnectionCounts {
  open: number;
  refused: number;
  max: number;
}

export function connectionMetrics(registry: Registry): ConnectionCounts {
  const counts: ConnectionCounts = { open: 0, refused: 0, max: 0 };
  const registers = [registry];
  new Gauge({
    name: "dyshard_connections_open",
    help: "Client connections open now (the ones refused past --max-connections not counted).",
    registers,
    collect() {
      this.set(counts.open);
    },
  });
  new Gauge({
    name: "dyshard_connections_max",
    help: "Client connections dyshard keeps open at most (--max-connections, or what auto sized it to).",
    registers,
    collect() {
      this.set(counts.max);
    },
  });
  new Counter({
    name: "dyshard_connections_refused_total",
    help: "Client connections answered 503 and closed because --max-connections were open.",
    registers,
    collect() {
      this.reset();
      this.inc(counts.refused);
    },
  });
  return counts;
}
