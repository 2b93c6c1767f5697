// Plain answers the listener and endpoints write themselves.
import type { ServerResponse } from "node:http";

const TEXT = "text/plain; charset=utf-8";

export function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, "content-type": TEXT }).end(body);
}

export function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value, null, 2) + "\n");
}

/** Go's 400 for a request it refuses before routing: no trailing newline, connection closed. */
export function badRequest(res: ServerResponse): void {
  res.writeHead(400, { "content-type": TEXT, connection: "close" }).end("400 Bad Request");
}

export function notFound(res: ServerResponse, body = "404 page not found\n"): void {
  text(res, 404, body);
}
