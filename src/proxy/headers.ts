// Hop-by-hop headers belong to one connection and must not cross the proxy (RFC 9110 §7.6.1);
// undici also refuses some of them outright. Everything else passes through untouched.

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
  "host",
]);
/** Runs twice per push over every header: a name of none of these lengths is passed without lowercasing. */
const HOP_LENGTHS = new Set([...HOP_BY_HOP].map((n) => n.length));

/** Whether a header name is `lower` (given in lower case); the length check spares most lowercasing on the push path. */
export function isHeader(name: string, lower: string): boolean {
  return name.length === lower.length && name.toLowerCase() === lower;
}

/** Header bytes as Node writes them back (latin1: every byte kept; utf8 would mangle non-ASCII). */
const text = (x: Buffer | string | undefined): string => (typeof x === "string" ? x : x === undefined ? "" : x.toString("latin1"));

/** Drops hop-by-hop headers (and those the Connection header names) from a raw list: name, value, ... */
export function forwardableRawHeaders(raw: (Buffer | string)[]): string[] {
  const out: string[] = [];
  let listed: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = text(raw[i]);
    if (HOP_LENGTHS.has(name.length)) {
      const lower = name.toLowerCase();
      if (lower === "connection")
        listed = text(raw[i + 1])
          .toLowerCase()
          .split(",")
          .map((s) => s.trim());
      if (HOP_BY_HOP.has(lower)) continue;
    }
    out.push(name, text(raw[i + 1]));
  }
  if (listed === undefined) return out;
  // Names the Connection header lists are hop-by-hop as well (it usually lists none of them).
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2)
    if (!listed.includes((out[i] as string).toLowerCase())) kept.push(out[i] as string, out[i + 1] as string);
  return kept;
}
