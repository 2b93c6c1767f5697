// --max-connections: client connections are counted as they open and close (a listener per
// connection, nothing per push), and one past the limit never reaches the HTTP parser: it is
// answered 503 with Retry-After, as an overloaded server would, and closed. A closed socket
// (Node's server.maxConnections) would read to a client as "connection reset", and under
// node:cluster a worker at that limit hands the connection back to the primary, which offers
// it to the next worker and, with every worker full, round and round.
import type { Server } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Socket } from "node:net";
import { Server as TlsServer } from "node:tls";
import type { ConnectionCounts } from "../metrics/connection-metrics.js";

/** How long a refused connection may take to send its request head and read the answer. */
const REFUSED_LINGER_MS = 1000;

const BODY = "dyshard has too many open connections (--max-connections); retry later\n";
const REFUSAL = [
  "HTTP/1.1 503 Service Unavailable",
  "Retry-After: 1",
  "Content-Type: text/plain; charset=utf-8",
  `Content-Length: ${Buffer.byteLength(BODY)}`,
  "Connection: close",
  "",
  BODY,
].join("\r\n");

/** Puts the limit in front of the HTTP server's own connection listener. */
export function limitConnections(server: Server | HttpsServer, max: number, counts: ConnectionCounts): void {
  counts.max = max;
  const serve = server.listeners("connection") as ((socket: Socket) => void)[];
  server.removeAllListeners("connection");
  // Over TLS (https.Server) an answer before the handshake would be garbage to the client: a
  // connection past the limit is closed, as a refused accept.
  const over = server instanceof TlsServer ? drop : refuse;
  const closed = () => {
    counts.open--;
  };
  server.on("connection", (socket: Socket) => {
    if (counts.open >= max) return over(socket, counts);
    counts.open++;
    socket.once("close", closed);
    for (const listener of serve) listener.call(server, socket);
  });
}

/**
 * The answer waits for the first bytes of a request (an answer before any would be "unsolicited"
 * to Go's client); what the client sends after is read and dropped, so closing does not reset the
 * connection under an answer it has not read yet. Each refused socket lives at most a second.
 */
function refuse(socket: Socket, counts: ConnectionCounts): void {
  counts.refused++;
  socket.on("error", () => socket.destroy());
  socket.once("data", () => socket.end(REFUSAL));
  socket.once("end", () => socket.destroy());
  setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
}

function drop(socket: Socket, counts: ConnectionCounts): void {
  counts.refused++;
  socket.destroy();
}
