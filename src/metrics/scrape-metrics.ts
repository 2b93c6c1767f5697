// The scrape allocation's metrics (--prometheus): each Prometheus server's health as dyshard sees
// it and how many Pushgateways it is allocated.
import { Gauge, type Registry } from "prom-client";
import type { ScrapeView } from "../prometheus/scrape-view.js";

export function scrapeMetrics(registry: Registry, view: () => ScrapeView) {
  const up = new Gauge({
    name: "dyshard_prometheus_up",
    help: "1 when the Prometheus server answers its /-/ready checks, else 0.",
    labelNames: ["prometheus"] as const,
    registers: [registry],
    collect() {
      for (const s of view().servers) up.set({ prometheus: s.name }, s.healthy ? 1 : 0);
    },
  });
  const targets = new Gauge({
    name: "dyshard_scrape_targets",
    help: "Pushgateways allocated to the Prometheus server (listed at /-/dyshard/sd?prometheus=NAME).",
    labelNames: ["prometheus"] as const,
    registers: [registry],
    collect() {
      for (const s of view().servers) targets.set({ prometheus: s.name }, s.targets.length);
    },
  });
}
