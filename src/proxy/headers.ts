// Hop-by-hop headers belong to one connection and must not cross the proxy (RFC 9110 §7.6.1);
// undici also refuses some of them outright. Everything else passes through untouched.

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "expect", "host"]);
/** Runs twice per push over every header: a name of another length is passed without lowercasing. */
const HOP_LENGTHS = new Set([...HOP_BY_HOP].map((n) => n.length));

/** Drops hop-by-hop headers (and those the Connection header names) from a raw list: name, value, ... */
export function forwardableRawHeaders(raw: (Buffer | string)[]): string[] {
  const out: string[] = [];
  let listed: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = String(raw[i]);
    if (name.length === 10 && name.toLowerCase() === "connection") listed = String(raw[i + 1]).toLowerCase().split(",").map((s) => s.trim());
  }
  for (let i = 0; i < raw.length; i += 2) {
    const name = String(raw[i]);
    if (HOP_LENGTHS.has(name.length) || listed !== undefined) {
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower) || listed?.includes(lower)) continue;
    }
    out.push(name, String(raw[i + 1]));
  }
  return out;
}
