// Reads a push body before it is forwarded, so that a slow client never holds an upstream
// connection while its body trickles in (src/proxy/spool.ts). Where the bytes go:
//  - memory, up to --retry-body, charged to the shared budget as bytes arrive (not as declared),
//    so stalled uploads cannot take the room that makes small pushes retryable;
//  - the spool, when the body is larger or memory is spent: a declared length is reserved at once,
//    a chunked body takes room as it grows;
//  - streamed (src/proxy/body-stream.ts) only when the spool has no room either.
// Every byte read counts for the body timeout (src/proxy/body-watch.ts); the size limit is
// enforced as bytes arrive, so a chunked body cannot slip past it.
import type { IncomingMessage } from "node:http";
import { finished } from "node:stream";
import { BodyStream } from "./body-stream.js";
import { BodyTimeoutError, BodyTooLargeError, clientGone, type BodyPlaces, type PushBody } from "./body.js";
import type { WatchedRead } from "./body-watch.js";
import { isHeader } from "./headers.js";
import type { SpoolFile } from "./spool.js";

export function readPushBody(req: IncomingMessage, places: BodyPlaces): Promise<PushBody> {
  const declared = declaredLength(req.rawHeaders);
  if (declared > places.maxBytes) return Promise.reject(new BodyTooLargeError(places.maxBytes));
  return new Promise((resolve, reject) => new BodyReader(req, declared, places, resolve, reject).start());
}

/** Content-Length from the raw list (NaN when absent): `req.headers` would build an object per push. */
function declaredLength(raw: string[]): number {
  for (let i = 0; i < raw.length; i += 2) {
    if (isHeader(raw[i] as string, "content-length")) return Number(raw[i + 1]);
  }
  return NaN;
}

class BodyReader implements WatchedRead {
  received = 0;
  paused = false;
  seen = -1;
  idleSince = 0;
  rosterIndex = -1;
  /** Held in memory: the chunks, and the bytes of the memory budget they took. */
  private chunks: Buffer[] = [];
  private held = 0;
  /** Spooled: the file, and the bytes of the spool reserved for it. */
  private file: SpoolFile | undefined;
  private reserved = 0;
  private settled = false;

  constructor(
    private readonly req: IncomingMessage,
    /** NaN: chunked. */
    private readonly declared: number,
    private readonly places: BodyPlaces,
    private readonly resolve: (body: PushBody) => void,
    private readonly reject: (err: Error) => void,
  ) {}

  start(): void {
    const { req } = this;
    if (req.destroyed) return this.fail(clientGone()); // went away while the push waited
    if (this.declared > this.places.holdBytes && !this.spool(this.declared)) return this.stream([]);
    req.on("data", this.onData).once("end", this.onEnd).once("error", this.onError).once("close", this.onClose);
    this.places.watch.add(this);
  }

  private readonly onData = (chunk: Buffer) => {
    this.received += chunk.length;
    if (this.file !== undefined) return this.write(chunk);
    const { places } = this;
    if (this.received > places.maxBytes) return this.fail(new BodyTooLargeError(places.maxBytes));
    if (this.received <= places.holdBytes && places.memory.take(chunk.length)) {
      this.chunks.push(chunk);
      this.held += chunk.length;
      return;
    }
    this.spill(chunk);
  };

  /** Too large for memory, or memory is spent: what was held moves to the spool, or else streams. */
  private spill(chunk: Buffer): void {
    const head = this.chunks;
    head.push(chunk);
    this.chunks = [];
    this.places.memory.give(this.held);
    this.held = 0;
    if (!this.spool(Number.isNaN(this.declared) ? this.received : this.declared)) return this.stream(head);
    for (const c of head) this.toDisk(c);
  }

  /** Reserves `bytes` of the spool and opens a file there; false when the spool is full. */
  private spool(bytes: number): boolean {
    if (!this.places.spool.reserve(bytes)) return false;
    this.reserved = bytes;
    this.file = this.places.spool.create();
    this.file.writer.once("error", this.onError); // the disk failed: the push fails, its file goes
    return true;
  }

  private write(chunk: Buffer): void {
    if (this.received > this.reserved) {
      // A chunked body grows: more room on disk, or the rest streams after what is spooled.
      if (this.received > this.places.maxBytes) return this.fail(new BodyTooLargeError(this.places.maxBytes));
      if (!this.places.spool.reserve(this.received - this.reserved)) return this.overflow(chunk);
      this.reserved = this.received;
    }
    this.toDisk(chunk);
  }

  private toDisk(chunk: Buffer): void {
    const writer = (this.file as SpoolFile).writer;
    if (writer.write(chunk) || this.paused) return;
    // The disk is slower than the client: read on once the file caught up.
    this.paused = true;
    this.req.pause();
    writer.once("drain", () => {
      this.paused = false;
      if (!this.settled) this.req.resume();
    });
  }

  /** The spool filled up under a chunked body: its spooled part, then the rest, are streamed. */
  private overflow(chunk: Buffer): void {
    const file = this.file as SpoolFile;
    this.file = undefined;
    file.writer.end();
    const written = new Promise<void>((resolve, reject) => finished(file.writer, (err) => (err ? reject(err) : resolve())));
    this.stream([chunk], file, written);
  }

  /** Hands the rest of the body over to a stream the engine reads (not retryable). */
  private stream(head: Buffer[], file?: SpoolFile, written?: Promise<void>): void {
    this.detach();
    this.settled = true;
    this.req.pause(); // until the stream reads on: no chunk may go by with nobody listening
    const { places, reserved } = this;
    const stream = new BodyStream(this.req, head, this.received, places, file && { path: file.path, written: written as Promise<void> });
    const release = file
      ? () => {
          stream.destroy();
          places.spool.discard(file);
          places.spool.give(reserved);
        }
      : () => stream.destroy();
    this.resolve({ kind: "streamed", stream, release });
  }

  private readonly onEnd = () => {
    this.detach();
    const { file, places } = this;
    if (file === undefined) {
      this.settled = true;
      const { chunks, held } = this;
      const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, held);
      return this.resolve({ kind: "held", bytes, release: () => places.memory.give(held) });
    }
    file.writer.end();
    finished(file.writer, (err) => {
      if (err) return this.fail(err);
      this.settled = true;
      const { received: size, reserved } = this;
      this.resolve({
        kind: "spooled",
        size,
        declared: !Number.isNaN(this.declared),
        open: () => places.spool.read(file.path),
        release: () => {
          places.spool.discard(file);
          places.spool.give(reserved);
        },
      });
    });
  };

  private readonly onError = (err: Error) => this.fail(err);

  /** A client that goes away mid-body: its request closes without an "end" (and maybe an "error"). */
  private readonly onClose = () => this.fail(clientGone());

  expire(timeoutMs: number): void {
    this.fail(new BodyTimeoutError(timeoutMs));
  }

  private fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.detach();
    const { places } = this;
    places.memory.give(this.held);
    this.held = 0;
    this.chunks = [];
    if (this.file !== undefined) places.spool.discard(this.file);
    places.spool.give(this.reserved);
    this.reserved = 0;
    this.reject(err);
  }

  /** Stops reading: the body is complete, handed over, or failed. */
  private detach(): void {
    this.req.off("data", this.onData).off("end", this.onEnd).off("error", this.onError).off("close", this.onClose);
    this.places.watch.delete(this);
  }
}
