// A refused body (413, 408) is answered with Connection: close while the client may still be
// sending it. Closed at once, the connection is reset under bytes the client has not read yet,
// and a client busy writing sees EPIPE or "connection reset" instead of the answer. So, as Go's
// server does for an unread body (its closeWriteAndWait), dyshard sends the answer, shuts its
// side, and reads and drops what still comes for at most LINGER_MS before the socket goes. The
// reading stops after LINGER_BYTES, so that draining costs no more than a large push would.
import type { ServerResponse } from "node:http";

const LINGER_MS = 1000;
const LINGER_BYTES = 4 * 1024 * 1024;

export function lingerAfter(res: ServerResponse): void {
  const socket = res.socket;
  if (!socket || !res.req) return; // an answer kept aside (answer-capture.ts) has neither
  const req = res.req;
  let dropped = 0;
  req.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES) req.pause(); // the socket stops being read; the client has its answer or never reads it
  });
  res.once("finish", () => {
    // Node's server has just called socket.destroySoon(): destroy once the answer is written.
    socket.off("finish", socket.destroy);
    socket.once("end", () => socket.destroy());
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
}
