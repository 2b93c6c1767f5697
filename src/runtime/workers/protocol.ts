// The messages between the primary and its workers (--workers). Every type is namespaced
// "dyshard:", because prom-client's AggregatorRegistry shares the IPC channel with its own
// "prom-client:" messages; a request carries an id that its reply repeats (./pending-replies.ts).

export const NAMESPACE = "dyshard:";

/** A member as the primary sees it, mirrored by every worker. */
export interface MemberState {
  slot: number;
  url: string;
  retired: boolean;
  healthy: boolean;
  reason: string;
}

export type Reply =
  | { type: "dyshard:reply"; id: number; ok: true; value: unknown }
  /** `unavailable`: the primary could not serve it now (starting, stopping): the worker answers 503. */
  | { type: "dyshard:reply"; id: number; ok: false; error: string; unavailable: boolean };

export type ToWorker =
  | { type: "dyshard:members"; members: MemberState[] }
  | { type: "dyshard:gate-close"; id: number; keys: string[] }
  | { type: "dyshard:gate-open"; id: number }
  | { type: "dyshard:follow"; groups: string[] }
  | { type: "dyshard:unfollow"; group: string }
  /** SIGHUP reached the primary: read --tls-cert and --tls-key again. */
  | { type: "dyshard:reload-tls" }
  | Reply;

/** A push dyshard could not acknowledge (`unacked`), or a later acknowledged one of a followed group. */
export type OutcomeReport = { type: "dyshard:unacked" | "dyshard:acked"; group: string; slot: number; at: number };

export type ToPrimary =
  | { type: "dyshard:hello" }
  | { type: "dyshard:down"; slot: number; url: string; reason: string }
  | Reply
  | { type: "dyshard:rebalance"; id: number; dryRun: boolean }
  | { type: "dyshard:metrics"; id: number }
  | { type: "dyshard:scrape"; id: number }
  | { type: "dyshard:status"; id: number }
  | { type: "dyshard:deleted" }
  | OutcomeReport;

/** How long a worker waits for the primary's answer (a handover run over many groups takes minutes). */
export const REPLY_TIMEOUT_MS = { rebalance: 15 * 60_000, metrics: 10_000, scrape: 10_000, status: 10_000 } as const;

/** One of ours (not prom-client's, not anything else on the channel). */
export function isProtocolMessage<T extends { type: string }>(msg: unknown): msg is T {
  const type = (msg as { type?: unknown } | null)?.type;
  return typeof type === "string" && type.startsWith(NAMESPACE);
}
