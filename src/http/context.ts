// What every step of the listener's pipeline and every endpoint may use. Types only, so that
// http/ and endpoints/ import it without importing each other.
import type { Guards } from "../auth/guards.js";
import type { Config } from "../config/schema.js";
import type { Logger } from "../core/logger.js";
import type { RunReport } from "../handover/run-report.js";
import type { Membership } from "../membership/membership.js";
import type { Metrics } from "../metrics/catalogue.js";
import type { ScrapeView } from "../prometheus/scrape-view.js";
import type { Forwarder } from "../proxy/forwarder.js";
import type { PushgatewayClient } from "../pushgateway/client/pushgateway-client.js";
import type { StatusView } from "./status-view.js";

/** What only the control plane can answer: in this process, or with --workers in the primary. */
export interface ControlHandlers {
  rebalance(dryRun: boolean): Promise<RunReport>;
  metrics(): Promise<{ contentType: string; text: string }>;
  /** The Prometheus servers and their Pushgateways; undefined without --prometheus. */
  scrape(): Promise<ScrapeView | undefined>;
  /** The ring, health history, handover runs, expiry and Prometheus servers (the status page). */
  status(): Promise<StatusView>;
}

export interface RequestContext {
  config: Config;
  membership: Membership;
  metrics: Metrics;
  forwarder: Forwarder;
  /** The instances' own API, for the endpoints that ask every one of them (src/ops/fan-out.ts). */
  upstreamApi: PushgatewayClient;
  control: ControlHandlers;
  log: Logger;
  /** --push-auth-file and --admin-auth-file, read at start (none: open). */
  guards: Guards;
}
