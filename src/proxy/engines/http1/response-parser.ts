// An incremental HTTP/1.1 response parser for the native engine: the status line, the header list,
// and the body's framing (RFC 9112 §6.3: none, Content-Length, chunked, or to the connection's end).
// Pure: bytes in, callbacks out. An answer that arrives in one read (a Pushgateway's always does)
// is parsed with one search for the head's end and no copy.

import { isHeader } from "../../headers.js";

export interface ResponseHandler {
  /** The final answer's head (1xx heads are skipped); headers as a raw list: name, value, ... */
  onHead(status: number, headers: string[]): void;
  onBody(chunk: Buffer): void;
  /** The answer is complete; `reusable` says whether the connection may carry another request. */
  onEnd(reusable: boolean): void;
}

export class ResponseParseError extends Error {
  readonly code = "HPE_INVALID_RESPONSE";
}

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_LINE_BYTES = 4 * 1024;
const CRLF = 0x0d0a;

const enum State {
  Head,
  Length,
  UntilClose,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  Done,
}

export class ResponseParser {
  private state = State.Head;
  /** Bytes of an unfinished head or line, kept between reads. */
  private pending: Buffer | undefined;
  private remaining = 0;
  private reusable = true;
  private completed = false;

  /** `bodiless`: the request was HEAD, so the answer has no body whatever its headers say. */
  constructor(
    private readonly handler: ResponseHandler,
    private readonly bodiless = false,
  ) {}

  /** True once the head has been delivered: from then on a failure is the client's to see. */
  get started(): boolean {
    return this.state !== State.Head;
  }

  /** Feeds the next bytes read from the connection. Throws ResponseParseError on a malformed answer. */
  execute(data: Buffer): void {
    let at = 0;
    if (this.pending !== undefined) {
      data = Buffer.concat([this.pending, data]);
      this.pending = undefined;
    }
    while (at < data.length) {
      switch (this.state) {
        case State.Head: {
          const end = data.indexOf("\r\n\r\n", at, "latin1");
          if (end < 0) return this.keep(data, at, MAX_HEAD_BYTES, "response head");
          this.head(data.toString("latin1", at, end));
          at = end + 4;
          break;
        }
        case State.Length:
          at = this.counted(data, at);
          if (this.remaining === 0) this.end();
          break;
        case State.UntilClose:
          this.handler.onBody(at === 0 ? data : data.subarray(at));
          return;
        case State.ChunkSize:
        case State.Trailers: {
          const eol = data.indexOf("\r\n", at, "latin1");
          if (eol < 0) return this.keep(data, at, MAX_LINE_BYTES, "chunk line");
          const line = data.toString("latin1", at, eol);
          at = eol + 2;
          if (this.state === State.Trailers) {
            if (line === "") this.end();
          } else {
            const size = line.split(";", 1)[0]?.trim() ?? "";
            if (!/^[0-9a-fA-F]{1,12}$/.test(size))
              throw new ResponseParseError(`malformed chunk size ${JSON.stringify(line.slice(0, 40))}`);
            this.remaining = parseInt(size, 16);
            this.state = this.remaining === 0 ? State.Trailers : State.ChunkData;
          }
          break;
        }
        case State.ChunkData:
          at = this.counted(data, at);
          if (this.remaining === 0) this.state = State.ChunkDataEnd;
          break;
        case State.ChunkDataEnd: {
          if (data.length - at < 2) return this.keep(data, at, 2, "chunk end");
          if (data.readUInt16BE(at) !== CRLF) throw new ResponseParseError("chunk data not followed by CRLF");
          at += 2;
          this.state = State.ChunkSize;
          break;
        }
        case State.Done:
          // Bytes after a complete answer: nothing was asked for them, so the connection is not reused.
          this.reusable = false;
          at = data.length;
          break;
      }
    }
    if (this.state === State.Done) this.complete();
  }

  /** The connection ended: completes a body that runs to the end; anything else unfinished throws. */
  finish(): void {
    if (this.state === State.UntilClose) {
      this.end();
      return this.complete();
    }
    if (this.state !== State.Done) throw new ResponseParseError("connection closed before the answer was complete");
  }

  /** Hands over body bytes up to `remaining` (a Content-Length body or one chunk); returns where it stopped. */
  private counted(data: Buffer, at: number): number {
    const n = Math.min(this.remaining, data.length - at);
    this.handler.onBody(data.subarray(at, at + n));
    this.remaining -= n;
    return at + n;
  }

  private keep(data: Buffer, at: number, limit: number, what: string): void {
    if (data.length - at > limit) throw new ResponseParseError(`${what} longer than ${limit} bytes`);
    this.pending = data.subarray(at);
  }

  /** Marks the answer complete; the handler hears it once the read is used up (see execute). */
  private end(): void {
    this.state = State.Done;
  }

  private complete(): void {
    if (this.completed) return;
    this.completed = true;
    this.handler.onEnd(this.reusable);
  }

  private head(text: string): void {
    // One pass with indexOf: split() and a regex per answer showed in the profiles.
    let eol = text.indexOf("\r\n");
    if (eol < 0) eol = text.length;
    const status = statusOf(text, eol);
    const http10 = text.charCodeAt(7) === 0x30;
    const headers: string[] = [];
    let length: string | undefined;
    let coding: string | undefined;
    let connection: string | undefined;
    for (let at = eol + 2; at < text.length; at = eol + 2) {
      eol = text.indexOf("\r\n", at);
      if (eol < 0) eol = text.length;
      const colon = text.indexOf(":", at);
      const first = text.charCodeAt(at);
      if (colon <= at || colon > eol || first === 0x20 || first === 0x09)
        throw new ResponseParseError(`malformed header line ${JSON.stringify(text.slice(at, Math.min(eol, at + 60)))}`);
      const name = text.slice(at, colon);
      const value = text.slice(colon + 1, eol).trim();
      headers.push(name, value);
      // Only three names decide the framing.
      if (isHeader(name, "content-length")) {
        if (length !== undefined && length !== value) throw new ResponseParseError("conflicting Content-Length headers");
        length = value;
      } else if (isHeader(name, "transfer-encoding")) coding = coding === undefined ? value : `${coding}, ${value}`;
      else if (isHeader(name, "connection")) connection = connection === undefined ? value : `${connection}, ${value}`;
    }
    if (status < 200) return; // 100 Continue and friends: the final head follows

    this.reusable = connection === undefined ? !http10 : http10 ? hasToken(connection, "keep-alive") : !hasToken(connection, "close");
    this.handler.onHead(status, headers);

    if (this.bodiless || status === 204 || status === 304) return this.end();
    if (coding !== undefined) {
      // With both, Transfer-Encoding wins and the connection is not to be trusted again (§6.3).
      if (length !== undefined) this.reusable = false;
      if (/(?:^|,)\s*chunked\s*$/i.test(coding)) this.state = State.ChunkSize;
      else this.untilClose();
      return;
    }
    if (length !== undefined) {
      if (!/^\d{1,15}$/.test(length)) throw new ResponseParseError(`malformed Content-Length ${JSON.stringify(length)}`);
      this.remaining = Number(length);
      if (this.remaining === 0) return this.end();
      this.state = State.Length;
      return;
    }
    this.untilClose();
  }

  private untilClose(): void {
    this.reusable = false;
    this.state = State.UntilClose;
  }
}

/** The status of `HTTP/1.x NNN[ reason]`, the line ending at `eol`. */
function statusOf(text: string, eol: number): number {
  const ok =
    text.startsWith("HTTP/1.") &&
    (text.charCodeAt(7) === 0x30 || text.charCodeAt(7) === 0x31) &&
    text.charCodeAt(8) === 0x20 &&
    isDigit(text.charCodeAt(9)) &&
    isDigit(text.charCodeAt(10)) &&
    isDigit(text.charCodeAt(11)) &&
    (eol === 12 || text.charCodeAt(12) === 0x20);
  if (!ok) throw new ResponseParseError(`malformed status line ${JSON.stringify(text.slice(0, Math.min(eol, 60)))}`);
  return (text.charCodeAt(9) - 48) * 100 + (text.charCodeAt(10) - 48) * 10 + (text.charCodeAt(11) - 48);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Whether a comma-separated header value holds `token` (case-insensitive). */
function hasToken(value: string, token: string): boolean {
  const lower = value.toLowerCase();
  if (lower === token) return true;
  return lower.split(",").some((t) => t.trim() === token);
}
