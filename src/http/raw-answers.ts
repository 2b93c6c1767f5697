// Answers for requests Node's HTTP parser refuses or hands over raw, written onto the socket as
// the Pushgateway (Go's net/http and its router) would answer them, so that a client sees the same
// status through dyshard as without it (README, "What dyshard answers itself").
import type { Duplex } from "node:stream";
import type { IncomingMessage } from "node:http";
import { route } from "../routing/route.js";

/** The Pushgateway's GET-only endpoints: another method there is its router's 405, not a 404. */
const GET_PATHS = new Set([
  "/",
  "/metrics",
  "/-/healthy",
  "/-/ready",
  "/api/v1/status",
  "/api/v1/metrics",
  "/-/dyshard/ring",
  "/-/dyshard/sd",
  "/-/dyshard/status",
  "/-/dyshard/",
  "/-/dyshard/group",
]);
export const GET_ALLOW = "GET, OPTIONS";

export function isGetOnlyPath(path: string): boolean {
  return GET_PATHS.has(path);
}

function raw(status: string, body: string, extra: string[] = []): string {
  const head = [
    `HTTP/1.1 ${status}`,
    ...extra,
    "Content-Type: text/plain; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Connection: close",
  ];
  return head.join("\r\n") + "\r\n\r\n" + body;
}

const NOT_FOUND = raw("404 Not Found", "404 page not found\n");

/** The request line of a refused request, when it is `METHOD SP target SP HTTP/1.x`. */
function requestLine(packet: Buffer | undefined): { method: string; target: string } | undefined {
  if (!packet) return undefined;
  const end = packet.indexOf("\r\n");
  const line = packet.subarray(0, end < 0 ? Math.min(packet.length, 8192) : end).toString("latin1");
  const m = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP\/1\.[01]$/.exec(line);
  return m ? { method: m[1] as string, target: m[2] as string } : undefined;
}

/** A method Node does not know (lowercase, PATCH-like inventions): Go routes it, and answers 405 or 404. */
function unknownMethod(packet: Buffer | undefined): string | undefined {
  const line = requestLine(packet);
  if (!line) return undefined;
  const r = route(line.method, line.target, "group");
  if (r.kind === "answer") {
    const extra = Object.entries(r.headers)
      .filter(([k]) => k !== "content-type")
      .map(([k, v]) => `${k[0]!.toUpperCase()}${k.slice(1)}: ${v}`);
    return raw(`${r.status} ${r.status === 405 ? "Method Not Allowed" : r.status === 404 ? "Not Found" : "Bad Request"}`, r.body, extra);
  }
  const path = line.target.split("?")[0] as string;
  return isGetOnlyPath(path) ? raw("405 Method Not Allowed", "Method Not Allowed\n", [`Allow: ${GET_ALLOW}`]) : NOT_FOUND;
}

/**
 * Raw bytes ≥ 0x80 in the target (curl sends `café` unencoded). Node's parser refuses them and
 * cannot be told to accept only these without also accepting ambiguous framing, so dyshard says
 * what to do instead (README, "What dyshard answers itself").
 */
const RAW_BYTES = raw(
  "400 Bad Request",
  "the request target holds raw non-ASCII bytes: percent-encode them (for example /metrics/job/caf%C3%A9 for café)\n",
);

/** What Node itself would have written for the other parse errors. */
function nodeDefault(code: string | undefined): string {
  if (code === "HPE_HEADER_OVERFLOW") return "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n";
  if (code === "HPE_CHUNK_EXTENSIONS_OVERFLOW") return "HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n";
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n";
  return "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";
}

function hasRawHighByte(packet: Buffer | undefined): boolean {
  const line = packet?.subarray(0, Math.max(0, packet.indexOf("\r\n")));
  return line !== undefined && line.some((b) => b >= 0x80);
}

/** The server's clientError handler: one answer, then the connection closes (the parser cannot go on). */
export function onClientError(err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex): void {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent && err.code !== "ECONNRESET") {
    let answer: string | undefined;
    if (err.code === "HPE_INVALID_METHOD") answer = unknownMethod(err.rawPacket);
    else if (err.code === "HPE_INVALID_URL" && hasRawHighByte(err.rawPacket)) answer = RAW_BYTES;
    socket.end(answer ?? nodeDefault(err.code), () => socket.destroy());
    return;
  }
  socket.destroy();
}

/** CONNECT: the Pushgateway's router has no such route (404); Node would close without a word. */
export function onConnect(_req: IncomingMessage, socket: Duplex): void {
  socket.end(NOT_FOUND, () => socket.destroy());
}
