// Small re-implementations of the Go standard library behaviour that Pushgateway 1.5.1 inherits.
// They work on "binary strings" (one char per byte, as Buffer#toString("latin1") gives) so that
// bytes which are not valid UTF-8 survive until dyshard decides what to do with them.

const HEX = "0123456789ABCDEF";

/** net/url.PathUnescape: `%XX` to a byte, `+` kept; undefined when an escape is malformed. */
export function percentDecodeBinary(raw: string): string | undefined {
  if (!raw.includes("%")) return utf8ToBinary(raw);
  const bin = utf8ToBinary(raw);
  let out = "";
  for (let i = 0; i < bin.length; i++) {
    const c = bin[i];
    if (c !== "%") {
      out += c;
      continue;
    }
    const hex = bin.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
    out += String.fromCharCode(parseInt(hex, 16));
    i += 2;
  }
  return out;
}

function utf8ToBinary(s: string): string {
  // Request targets are ASCII in practice; Node hands other bytes over as latin1 already.
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\xff]*$/.test(s) ? s : Buffer.from(s, "utf8").toString("latin1");
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes a binary string as UTF-8; undefined when the bytes are not valid UTF-8. */
export function binaryToUtf8(bin: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(bin)) return bin;
  try {
    return utf8.decode(Buffer.from(bin, "latin1"));
  } catch {
    return undefined;
  }
}

/** path.Clean as net/http's ServeMux applies it, keeping a trailing slash. */
export function cleanPath(p: string): string {
  if (p === "") return "/";
  if (p[0] !== "/") p = "/" + p;
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  let np = "/" + out.join("/");
  if (p.endsWith("/") && np !== "/") np += "/";
  return np;
}

/** url.URL.EscapedPath for a path with no valid RawPath (what ServeMux puts in its 301). */
export function escapePath(bin: string): string {
  let out = "";
  for (let i = 0; i < bin.length; i++) {
    const code = bin.charCodeAt(i);
    const ch = bin[i] as string;
    if (/[A-Za-z0-9\-_.~$&+,/:;=@]/.test(ch)) out += ch;
    else out += "%" + HEX[code >> 4] + HEX[code & 15];
  }
  return out;
}

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "=")), as the Pushgateway decodes
 * `@base64` values. Like Go it skips CR/LF, reports the offset of the first bad byte, and returns
 * what it decoded before the error (the Pushgateway quotes that partial value in its message).
 */
export function decodeBase64Url(s: string): { value: string; error?: string } {
  let end = s.length;
  while (end > 0 && s[end - 1] === "=") end--;
  let value = "";
  let i = 0;
  for (;;) {
    const quantum: number[] = [];
    while (quantum.length < 4) {
      if (i === end) break;
      const ch = s[i++] as string;
      if (ch === "\n" || ch === "\r") continue;
      const v = B64URL.indexOf(ch);
      if (v < 0) return { value, error: `illegal base64 data at input byte ${i - 1}` };
      quantum.push(v);
    }
    if (quantum.length === 0) return { value };
    if (quantum.length === 1) return { value, error: `illegal base64 data at input byte ${i - 1}` };
    const [a = 0, b = 0, c = 0, d = 0] = quantum;
    const bits = (a << 18) | (b << 12) | (c << 6) | d;
    value += String.fromCharCode((bits >> 16) & 255);
    if (quantum.length >= 3) value += String.fromCharCode((bits >> 8) & 255);
    if (quantum.length === 4) value += String.fromCharCode(bits & 255);
    if (quantum.length < 4) return { value };
  }
}

/** strconv.Quote (Go's %q) of a binary string: invalid UTF-8 bytes become \xNN. */
export function goQuote(bin: string): string {
  const buf = Buffer.from(bin, "latin1");
  let out = '"';
  let i = 0;
  while (i < buf.length) {
    const len = utf8SeqLen(buf, i);
    if (len === 0) {
      out += "\\x" + hex2(buf[i] as number);
      i++;
      continue;
    }
    const ch = buf.subarray(i, i + len).toString("utf8");
    i += len;
    const cp = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp === 7) out += "\\a";
    else if (cp === 8) out += "\\b";
    else if (cp === 12) out += "\\f";
    else if (cp === 10) out += "\\n";
    else if (cp === 13) out += "\\r";
    else if (cp === 9) out += "\\t";
    else if (cp === 11) out += "\\v";
    else if (cp < 0x20 || cp === 0x7f) out += "\\x" + hex2(cp);
    else if ((cp >= 0x80 && cp < 0xa0) || cp === 0xad || cp === 0xfeff) out += "\\u" + cp.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

function hex2(n: number): string {
  return (HEX[n >> 4] as string).toLowerCase() + (HEX[n & 15] as string).toLowerCase();
}

/** Length of the valid UTF-8 sequence at i, or 0 when the byte there does not start one. */
function utf8SeqLen(buf: Buffer, i: number): number {
  const b0 = buf[i] as number;
  if (b0 < 0x80) return 1;
  const len = b0 >= 0xc2 && b0 <= 0xdf ? 2 : b0 >= 0xe0 && b0 <= 0xef ? 3 : b0 >= 0xf0 && b0 <= 0xf4 ? 4 : 0;
  if (len === 0 || i + len > buf.length) return 0;
  try {
    utf8.decode(buf.subarray(i, i + len));
    return len;
  } catch {
    return 0;
  }
}
