// Hop-by-hop headers belong to one connection and must not cross the proxy (RFC 9110 §7.6.1);
// undici also refuses some of them outright. Everything else passes through untouched.

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "expect", "host"]);
/** Runs twice per push over every header: a name of another length is passed without lowercasing. */
const HOP_LENGTHS = new Set([...HOP_BY_HOP].map((n) => n.length));

/** Header bytes as Node writes them back (latin1: every byte kept; utf8 would mangle non-ASCII). */
const text = (x: Buffer | string | undefined): string => (typeof x === "string" ? x : x === undefined ? "" : x.toString("latin1"));

/** Drops hop-by-hop headers (and those the Connection header names) from a raw list: name, value, ... */
export function forwardableRawHeaders(raw: (Buffer | string)[]): string[] {
  const out: string[] = [];
  let listed: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as Buffer | string;
    if (name.length === 10 && text(name).toLowerCase() === "connection") listed = text(raw[i + 1]).toLowerCase().split(",").map((s) => s.trim());
  }
  for (let i = 0; i < raw.length; i += 2) {
    const name = text(raw[i]);
    if (HOP_LENGTHS.has(name.length) || listed !== undefined) {
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower) || listed?.includes(lower)) continue;
    }
    out.push(name, text(raw[i + 1]));
  }
  return out;
}
