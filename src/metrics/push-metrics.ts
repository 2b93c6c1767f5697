// The data plane's metrics: pushes, the ring as this process routes on it, and the process's
// own (one set per process that serves pushes; with --workers summed over the workers).
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from "prom-client";
import type { Membership } from "../membership/membership.js";
import { authMetrics } from "./auth-metrics.js";
import { connectionMetrics } from "./connection-metrics.js";
import { PlainHistogram } from "./plain-histogram.js";

export type Metrics = ReturnType<typeof dataMetrics>;

/** How often the event loop delay is sampled: a loop blocked this long is always seen. */
export const EVENT_LOOP_SAMPLE_MS = 100;

/** Push metrics, ring view and process metrics (one set per process that serves pushes). */
export function dataMetrics(membership: Membership, registry = new Registry()) {
  // prom-client samples the event loop delay (nodejs_eventloop_lag_*) with a libuv timer that
  // wakes the process every 10 ms by default: 100 wake-ups a second even when idle, a cost per
  // push at low rates that nginx does not pay (bench/README.md, "At fixed rates").
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  // prom-client names these gauges `*_total`, which `promtool check metrics` rejects; its
  // nodejs_active_handles / _requests / _resources gauges (by type) carry the same counts.
  for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"])
    registry.removeSingleMetric(name);
  const registers = [registry];
  // Counted in a plain map on the push path and handed to prom-client only when scraped: a
  // prom-client child still hashes its label set on every inc(), which cost microseconds per push.
  // Keyed by upstream first: its URL is the member's own string, whose hash V8 has cached, where
  // a key built per push would be hashed anew every time.
  const counts = new Map<string, Map<string, { method: string; code: string; upstream: string; n: number }>>();
  new Counter({
    name: "dyshard_requests_total",
    help: "Push requests answered, by method, status code and the upstream that answered (none when dyshard answered itself).",
    labelNames: ["method", "code", "upstream"] as const,
    registers,
    collect() {
      this.reset();
      for (const byUpstream of counts.values())
        for (const c of byUpstream.values()) this.inc({ method: c.method, code: c.code, upstream: c.upstream }, c.n);
    },
  });
  const duration = new PlainHistogram(
    "dyshard_request_duration_seconds",
    "Time from a push's arrival to the end of dyshard's answer.",
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  registry.registerMetric(duration as unknown as Metric);
  const retries = new Counter({
    name: "dyshard_upstream_retries_total",
    help: "Pushes sent again to the next healthy slot after their owner refused or dropped the connection.",
    labelNames: ["upstream"] as const,
    registers,
  });
  // Every worker sees the same ring: aggregated over workers, these take the maximum, not the sum.
  new Gauge({
    name: "dyshard_upstream_up",
    help: "1 when the upstream is healthy and owns groups, else 0.",
    labelNames: ["upstream"] as const,
    aggregator: "max",
    registers,
    collect() {
      for (const member of membership.active()) this.set({ upstream: member.url }, member.healthy ? 1 : 0);
    },
  });
  new Gauge({
    name: "dyshard_ring_healthy_members",
    help: "Healthy members on the ring.",
    aggregator: "max",
    registers,
    collect() {
      this.set(membership.healthyCount());
    },
  });

  // --replicas: standby writes, counted only when there are any.
  const replicaCounts: Record<string, number> = { ok: 0, failed: 0, skipped: 0 };
  new Counter({
    name: "dyshard_replica_writes_total",
    help: "Standby copies written beside pushes (--replicas; for a DELETE, the other copies deleted), by result: ok, failed (left to the sweep), skipped (body not held: left to the sweep).",
    labelNames: ["result"] as const,
    registers,
    collect() {
      this.reset();
      for (const [result, n] of Object.entries(replicaCounts)) if (n > 0) this.inc({ result }, n);
    },
  });
  const replicaWrites = (result: "ok" | "failed" | "skipped", n = 1) => {
    replicaCounts[result] = (replicaCounts[result] ?? 0) + n;
  };

  /** Counts one answered push and its duration. */
  const observe = (method: string, code: number, upstream: string, seconds: number) => {
    let byUpstream = counts.get(upstream);
    if (byUpstream === undefined) counts.set(upstream, (byUpstream = new Map()));
    const k = STATUS_METHOD[code]?.[method] ?? `${code} ${method}`;
    const c = byUpstream.get(k);
    if (c) c.n++;
    else byUpstream.set(k, { method, code: String(code), upstream, n: 1 });
    duration.observe(seconds);
  };
  return { registry, retries, observe, replicaWrites, authFailure: authMetrics(registry), connections: connectionMetrics(registry) };
}

/** Interned "status method" keys for the usual answers. */
const STATUS_METHOD: Record<number, Record<string, string>> = Object.fromEntries(
  [200, 202, 400, 404, 405, 413, 500, 502, 503, 504].map((code) => [
    code,
    Object.fromEntries(["PUT", "POST", "DELETE"].map((m) => [m, `${code} ${m}`])),
  ]),
);
