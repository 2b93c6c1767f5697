// What one attempt's result means for the push: relay it, answer an error, or try the next owner.
// Pure (no I/O, no clock), so every branch is tested on its own (test/unit/attempt.test.ts); the
// Forwarder carries the verdict out.
import { BodyTimeoutError, BodyTooLargeError } from "./body.js";
import type { AttemptResult } from "./engines/engine.js";
import { errorCode, isConnectionFailure, isUpstreamTimeout } from "../core/errors.js";

export type Verdict =
  /** The upstream's answer went to the client; `acknowledged` when it was a 2xx. */
  | { kind: "relayed"; status: number; acknowledged: boolean }
  /** The client's body was refused (413) or stalled (408): answered, connection closed. */
  | { kind: "refuse-body"; status: 408 | 413; message: string }
  /** The client went away (logged as 499). */
  | { kind: "client-gone"; unacknowledged: boolean }
  /** No answer within the upstream timeout (504). */
  | { kind: "timeout"; unacknowledged: true }
  /** The upstream failed otherwise (502); the owner stays on the ring. */
  | { kind: "failed"; unacknowledged: boolean }
  /** The owner is not there: off the ring, and the push goes to the next owner (or 502 when it cannot). */
  | { kind: "owner-down"; retry: boolean; why?: "streamed" | "no owner left"; unacknowledged: boolean };

export interface AttemptContext {
  /** The client's response was destroyed meanwhile. */
  clientGone: boolean;
  /** The body was streamed (read once): it cannot be sent again. */
  streamed: boolean;
  /** Members not yet tried, this one excluded. */
  ownersLeft: number;
}

export function classifyAttempt(result: AttemptResult, ctx: AttemptContext): Verdict {
  if (result.relayed) return { kind: "relayed", status: result.status, acknowledged: result.status >= 200 && result.status < 300 };
  const { error } = result;
  if (error instanceof BodyTooLargeError) return { kind: "refuse-body", status: 413, message: error.message };
  if (error instanceof BodyTimeoutError) return { kind: "refuse-body", status: 408, message: error.message };
  // Sent but not answered: the owner may still apply it, late (see src/handover/push-ledger.ts).
  const unacknowledged = mayHaveArrived(error);
  if (ctx.clientGone) return { kind: "client-gone", unacknowledged };
  if (isUpstreamTimeout(error)) return { kind: "timeout", unacknowledged: true };
  if (!isConnectionFailure(error)) return { kind: "failed", unacknowledged };
  if (ctx.streamed) return { kind: "owner-down", retry: false, why: "streamed", unacknowledged };
  if (ctx.ownersLeft <= 0) return { kind: "owner-down", retry: false, why: "no owner left", unacknowledged };
  return { kind: "owner-down", retry: true, unacknowledged };
}

/** Anything but a refused connection: the request, or part of it, may have reached the upstream. */
function mayHaveArrived(err: unknown): boolean {
  return errorCode(err) !== "ECONNREFUSED";
}
