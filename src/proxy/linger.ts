// A refused body (413, 408) is answered with Connection: close while the client may still be
// sending it. Closed at once, the connection is reset under bytes the client has not read yet,
// and a client busy writing sees EPIPE or "connection reset" instead of the answer. So, as Go's
// server does for an unread body (its closeWriteAndWait), dyshard sends the answer, shuts its
// side, and reads and drops what still comes for at most LINGER_MS before the socket goes.
import type { ServerResponse } from "node:http";

const LINGER_MS = 1000;

export function lingerAfter(res: ServerResponse): void {
  const socket = res.socket;
  if (!socket || !res.req) return; // an answer kept aside (answer-capture.ts) has neither
  res.req.resume(); // the rest of the body, dropped as it arrives
  res.once("finish", () => {
    // Node's server has just called socket.destroySoon(): destroy once the answer is written.
    socket.off("finish", socket.destroy);
    socket.once("end", () => socket.destroy());
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
}
