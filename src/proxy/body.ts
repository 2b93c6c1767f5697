// A push body is held in memory when it is small enough (so a push whose owner drops the
// connection can be sent again to the next owner) and streamed otherwise. Either way the size
// limit is enforced as bytes arrive, so a chunked body cannot slip past it. The bytes held by all
// pushes together are bounded too: past that budget, bodies stream (and are not retried), so many
// concurrent large chunked pushes cannot grow memory without bound.
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { isHeader } from "./headers.js";

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body is larger than the limit of ${limit} bytes`);
  }
}

export type PushBody =
  | { held: true; bytes: Buffer; release(): void }
  /** Streamed: may be read once, so it cannot be retried. */
  | { held: false; stream: Readable; release(): void };

/** The bytes all held bodies may take together. */
export class HoldBudget {
  private used = 0;
  constructor(readonly limit: number) {}
  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }
  give(n: number): void {
    this.used -= n;
  }
}

const nothing = () => {};

export function clientGone(): Error {
  return Object.assign(new Error("the client closed the connection while sending the body"), { code: "ECONNABORTED" });
}

/** A byte stream, not Readable.from's default object mode, which queues 16 chunks (1 MiB) per push. */
function stream(chunks: AsyncGenerator<Buffer>): Readable {
  return Readable.from(chunks, { objectMode: false, highWaterMark: 16 * 1024 });
}

export function readPushBody(req: IncomingMessage, holdLimit: number, maxBytes: number, budget: HoldBudget): Promise<PushBody> {
  const declared = declaredLength(req.rawHeaders);
  if (declared > maxBytes) return Promise.reject(new BodyTooLargeError(maxBytes));
  // A declared length is enforced by the HTTP parser itself: the request is its own body stream,
  // with no extra buffering layer (this is what keeps many concurrent large pushes small).
  if (declared > holdLimit) return Promise.resolve({ held: false, stream: req, release: nothing });
  // Known small body: collect it with plain events (the common case, kept cheap).
  if (declared >= 0 && budget.take(declared)) return collect(req, declared, () => budget.give(declared));
  return readUnknown(req, holdLimit, maxBytes, budget);
}

/** Content-Length from the raw list (NaN when absent): `req.headers` would build an object per push. */
function declaredLength(raw: string[]): number {
  for (let i = 0; i < raw.length; i += 2) {
    if (isHeader(raw[i] as string, "content-length")) return Number(raw[i + 1]);
  }
  return NaN;
}

/** Unknown length (chunked), or the budget is spent: hold while it fits, else stream the rest. */
async function readUnknown(req: IncomingMessage, holdLimit: number, maxBytes: number, budget: HoldBudget): Promise<PushBody> {
  const it = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let size = 0;
  const release = () => budget.give(size);
  for (;;) {
    const next = await it.next();
    if (next.done) return { held: true, bytes: Buffer.concat(chunks, size), release };
    const chunk = next.value;
    if (size + chunk.length > maxBytes) {
      release();
      throw new BodyTooLargeError(maxBytes);
    }
    if (size + chunk.length > holdLimit || !budget.take(chunk.length)) {
      release();
      return { held: false, stream: stream(limited({ [Symbol.asyncIterator]: () => it }, [...chunks, chunk], size + chunk.length, maxBytes)), release: nothing };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
}

function collect(req: IncomingMessage, length: number, release: () => void): Promise<PushBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      chunks.push(c);
      size += c.length;
    });
    let settled = false;
    req.once("end", () => {
      settled = true;
      resolve({ held: true, bytes: chunks.length === 1 && size === length ? (chunks[0] as Buffer) : Buffer.concat(chunks, size), release });
    });
    // A client that goes away mid-body: its request closes without an "end" (and maybe an "error").
    // ("close" also follows every "end": the error, whose stack costs microseconds, is made only if needed.)
    const fail = (err: () => Error) => {
      if (settled) return;
      settled = true;
      release();
      reject(err());
    };
    req.once("error", (err) => fail(() => err));
    req.once("close", () => fail(clientGone));
  });
}

async function* limited(rest: AsyncIterable<Buffer>, head: Buffer[], size: number, maxBytes: number): AsyncGenerator<Buffer> {
  yield* head;
  for await (const chunk of rest) {
    size += chunk.length;
    if (size > maxBytes) throw new BodyTooLargeError(maxBytes);
    yield chunk;
  }
}
