// The status view (src/http/status-view.ts) from the control plane's parts.
import type { Config } from "../config/schema.js";
import { span } from "../handover/expiry.js";
import type { Handover } from "../handover/handover.js";
import type { StatusView } from "../http/status-view.js";
import type { HealthHistory } from "../membership/health-history.js";
import type { Membership } from "../membership/membership.js";
import { ringView } from "../membership/ring-view.js";
import type { ScrapeView } from "../prometheus/scrape-view.js";

export function statusView(
  config: Config,
  membership: Membership,
  health: HealthHistory,
  handover: Handover,
  scrape: ScrapeView | undefined,
): StatusView {
  const ttl = (ms: number) => (ms > 0 ? span(ms / 1000) : "never");
  return {
    generated_at: new Date().toISOString(),
    ring: ringView(config, membership),
    health: health.view(),
    handover: {
      rebalance_interval_ms: config.handover.rebalanceIntervalMs,
      runs: handover.history.recent(),
      totals: { ...handover.history.totals },
    },
    expiry: {
      group_ttl: config.groupTtl.defaultMs > 0 ? ttl(config.groupTtl.defaultMs) : null,
      by_job: Object.fromEntries(Object.entries(config.groupTtl.byJobMs).map(([job, ms]) => [job, ttl(ms)])),
    },
    prometheus: scrape ?? null,
  };
}
