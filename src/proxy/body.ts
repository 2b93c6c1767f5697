// What the Forwarder gets of a push body (src/proxy/body-reader.ts reads it). A body is held in
// memory when it is at most --retry-body, spooled to disk up to --max-spool, and streamed beyond
// that; held and spooled bodies can be sent again to the next owner, a streamed one cannot.
import type { Readable } from "node:stream";
import type { BodyWatch } from "./body-watch.js";
import type { Budget } from "./budget.js";
import type { Spool } from "./spool.js";

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body is larger than the limit of ${limit} bytes`);
  }
}

/** No byte of the body for --client-body-timeout: answered 408. */
export class BodyTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the request body did not arrive within ${timeoutMs}ms (no byte of it for that long)`);
  }
}

export function clientGone(): Error {
  return Object.assign(new Error("the client closed the connection while sending the body"), { code: "ECONNABORTED" });
}

export type PushBody =
  | { kind: "held"; bytes: Buffer; release(): void }
  /** On disk, complete: read again for every attempt. `declared`: the client's Content-Length is among its headers. */
  | { kind: "spooled"; size: number; declared: boolean; open(): Readable; release(): void }
  /** Streamed as it arrives: may be read once, so it cannot be retried. */
  | { kind: "streamed"; stream: Readable; release(): void };

/** The limits and places a body is read into, shared by all pushes. */
export interface BodyPlaces {
  /** --retry-body: larger bodies are not held in memory. */
  holdBytes: number;
  maxBytes: number;
  /** The bytes all held bodies may take together, charged as they arrive. */
  memory: Budget;
  spool: Spool;
  watch: BodyWatch;
}
