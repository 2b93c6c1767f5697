// A body streamed as it arrives, when neither memory nor the spool has room for it: what was read
// before (a spooled part, then chunks held in memory), then the rest of the client's request.
// The engine reads it like any stream; a stall longer than --client-body-timeout, a chunked body
// over --max-body or a client that goes away end it with an error, which the engine reports and
// the Forwarder answers (408, 413, 499). Backpressure: the client is read only as fast as the
// upstream takes it.
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { BodyTimeoutError, BodyTooLargeError, clientGone, type BodyPlaces } from "./body.js";
import type { WatchedRead } from "./body-watch.js";

/** The spooled start of a body, readable once its writer has finished. */
export interface SpooledPart {
  path: string;
  written: Promise<void>;
}

export class BodyStream extends Readable implements WatchedRead {
  received: number;
  /** Also true while the spooled part is sent: the client is not being read then. */
  paused = true;
  seen = -1;
  idleSince = 0;
  rosterIndex = -1;
  /** What is being read now: the spooled part's file, then the client's request. */
  private current: Readable | undefined;

  constructor(
    private readonly source: IncomingMessage,
    head: Buffer[],
    received: number,
    private readonly places: BodyPlaces,
    spooled?: SpooledPart,
  ) {
    super({ highWaterMark: 16 * 1024 });
    this.received = received;
    places.watch.add(this);
    if (spooled === undefined) this.fromSource(head);
    else
      spooled.written.then(
        () => this.fromFile(spooled.path, head),
        (err: Error) => this.destroy(err),
      );
  }

  private fromFile(path: string, head: Buffer[]): void {
    if (this.destroyed) return;
    const file = this.places.spool.read(path);
    this.current = file;
    file.on("data", (c) => {
      if (!this.push(c)) file.pause();
    });
    file.once("end", () => this.fromSource(head));
    file.once("error", (err) => this.destroy(err));
  }

  private fromSource(head: Buffer[]): void {
    if (this.destroyed) return;
    if (this.source.destroyed) return void this.destroy(clientGone()); // its "close" has been and gone
    for (const c of head) this.push(c);
    this.current = this.source;
    this.paused = false;
    this.source.on("data", this.onData).once("end", this.onEnd).once("error", this.onError).once("close", this.onClose);
    this.source.resume();
  }

  private readonly onData = (chunk: Buffer) => {
    this.received += chunk.length;
    // A declared length is enforced by the HTTP parser; a chunked body only here.
    if (this.received > this.places.maxBytes) return void this.destroy(new BodyTooLargeError(this.places.maxBytes));
    if (this.push(chunk)) return;
    this.paused = true;
    this.source.pause();
  };

  private readonly onEnd = () => {
    this.places.watch.delete(this);
    this.push(null);
  };

  private readonly onError = (err: Error) => this.destroy(err);

  /** A client that goes away mid-body ends its request without an "end". */
  private readonly onClose = () => {
    if (!this.source.readableEnded) this.destroy(clientGone());
  };

  override _read(): void {
    if (this.current === this.source) this.paused = false;
    this.current?.resume();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.places.watch.delete(this);
    this.source.off("data", this.onData).off("end", this.onEnd).off("error", this.onError).off("close", this.onClose);
    if (this.current !== this.source) this.current?.destroy();
    cb(err);
  }

  expire(timeoutMs: number): void {
    this.destroy(new BodyTimeoutError(timeoutMs));
  }
}
