// The Prometheus servers as the control plane sees them, with the Pushgateways allocated to each:
// what /-/dyshard/sd?prometheus=NAME and /-/dyshard/ring read (relayed to workers over IPC, so
// plain data). Types only.

export interface ScrapeServer {
  name: string;
  url: string;
  slot: number;
  healthy: boolean;
  /** ISO time of the last health change. */
  since: string;
  reason: string;
  /** Upstream URLs of the Pushgateways this server scrapes. */
  targets: string[];
}

export interface ScrapeView {
  replicas: number;
  servers: ScrapeServer[];
}
