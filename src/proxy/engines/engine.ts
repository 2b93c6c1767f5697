// The forwarding engine interface: one attempt to send a push to one upstream and relay its answer.
// Retries, failover and error answers are the Forwarder's; an engine only reports what happened.
import type { ServerResponse } from "node:http";
import type { Readable } from "node:stream";

export interface UpstreamRequest {
  method: string;
  /** The client's raw request target (path and query), appended to the upstream URL's path. */
  target: string;
  /** The client's headers less hop-by-hop ones, as a raw list: name, value, name, value, ... */
  headers: string[];
  body: Buffer | Readable;
}

export type AttemptResult =
  /** The upstream answered and its answer was relayed (or the relay broke and the client was cut off). */
  | { relayed: true; status: number }
  /** Nothing reached the client: the Forwarder may retry or answer an error itself. */
  | { relayed: false; error: unknown };

export interface Engine {
  readonly name: string;
  forward(upstreamUrl: string, req: UpstreamRequest, res: ServerResponse): Promise<AttemptResult>;
  /** Called once the listener has let its pushes finish and cut the rest off: abandons what is still in flight. */
  close(): Promise<void>;
}
