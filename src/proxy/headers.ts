// Hop-by-hop headers belong to one connection and must not cross the proxy (RFC 9110 §7.6.1);
// undici also refuses some of them outright. Everything else passes through untouched.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "expect", "host"]);

export function forwardableHeaders(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const listed = String(headers.connection ?? "")
    .toLowerCase()
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

/** The same filter over a raw header list (name, value, name, value, ...), as undici hands answers over. */
export function forwardableRawHeaders(raw: (Buffer | string)[]): string[] {
  const out: string[] = [];
  let listed: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = String(raw[i]).toLowerCase();
    if (name === "connection") listed = String(raw[i + 1]).toLowerCase().split(",").map((s) => s.trim());
  }
  for (let i = 0; i < raw.length; i += 2) {
    const name = String(raw[i]);
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed?.includes(lower)) continue;
    out.push(name, String(raw[i + 1]));
  }
  return out;
}
