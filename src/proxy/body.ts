// A push body is held in memory when it is small enough (so a push whose owner drops the
// connection can be sent again to the next owner) and streamed otherwise. Either way the size
// limit is enforced as bytes arrive, so a chunked body cannot slip past it.
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body is larger than the limit of ${limit} bytes`);
  }
}

export type PushBody =
  | { held: true; bytes: Buffer }
  /** Streamed: may be read once, so it cannot be retried. */
  | { held: false; stream: Readable };

export async function readPushBody(req: IncomingMessage, holdLimit: number, maxBytes: number): Promise<PushBody> {
  const declared = Number(req.headers["content-length"]);
  if (declared > maxBytes) throw new BodyTooLargeError(maxBytes);
  if (Number.isFinite(declared) && declared > holdLimit) return { held: false, stream: Readable.from(limited(req, [], 0, maxBytes)) };

  const it = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const next = await it.next();
    if (next.done) return { held: true, bytes: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) };
    chunks.push(next.value);
    size += next.value.length;
    if (size > maxBytes) throw new BodyTooLargeError(maxBytes);
    if (size > holdLimit) return { held: false, stream: Readable.from(limited({ [Symbol.asyncIterator]: () => it }, chunks, size, maxBytes)) };
  }
}

async function* limited(rest: AsyncIterable<Buffer>, head: Buffer[], size: number, maxBytes: number): AsyncGenerator<Buffer> {
  yield* head;
  for await (const chunk of rest) {
    size += chunk.length;
    if (size > maxBytes) throw new BodyTooLargeError(maxBytes);
    yield chunk;
  }
}
