// What GET /-/dyshard/status answers and the status page (static/status.html) draws: the control
// plane's state (with --workers, the primary's, relayed over IPC, so plain data). Types only.
import type { RunSummary } from "../handover/run-report.js";
import type { HealthEvent } from "../membership/member.js";
import type { RingView } from "../membership/ring-view.js";
import type { ScrapeView } from "../prometheus/scrape-view.js";

export interface StatusView {
  generated_at: string;
  ring: RingView;
  /** Each upstream's recent health, oldest first. */
  health: Record<string, HealthEvent[]>;
  handover: {
    /** The periodic sweep's interval (0: off). */
    rebalance_interval_ms: number;
    /** The last runs, newest first (dry runs included, marked). */
    runs: RunSummary[];
    /** Since this dyshard started. */
    totals: { runs: number; dry_runs: number; copied: number; promoted: number; deleted: number; expired: number; failed: number };
  };
  /** Group expiry: the TTLs, as written (null: off). */
  expiry: { group_ttl: string | null; by_job: Record<string, string> };
  /** The Prometheus servers and the Pushgateways each scrapes; null without --prometheus. */
  prometheus: ScrapeView | null;
}
