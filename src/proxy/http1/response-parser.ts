// An incremental HTTP/1.1 response parser for the native engine: the status line, the header list,
// and the body's framing (RFC 9112 §6.3: none, Content-Length, chunked, or to the connection's end).
// Pure: bytes in, callbacks out. An answer that arrives in one read (a Pushgateway's always does)
// is parsed with one search for the head's end and no copy.

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

  get done(): boolean {
    return this.state === State.Done;
  }

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
        case State.Length: {
          const n = Math.min(this.remaining, data.length - at);
          this.handler.onBody(data.subarray(at, at + n));
          at += n;
          this.remaining -= n;
          if (this.remaining === 0) this.end();
          break;
        }
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
            if (!/^[0-9a-fA-F]{1,12}$/.test(size)) throw new ResponseParseError(`malformed chunk size ${JSON.stringify(line.slice(0, 40))}`);
            this.remaining = parseInt(size, 16);
            this.state = this.remaining === 0 ? State.Trailers : State.ChunkData;
          }
          break;
        }
        case State.ChunkData: {
          const n = Math.min(this.remaining, data.length - at);
          this.handler.onBody(data.subarray(at, at + n));
          at += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = State.ChunkDataEnd;
          break;
        }
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
    const lines = text.split("\r\n");
    const statusLine = lines[0] as string;
    const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(statusLine);
    if (!m) throw new ResponseParseError(`malformed status line ${JSON.stringify(statusLine.slice(0, 60))}`);
    const http10 = m[1] === "0";
    const status = Number(m[2]);
    const headers: string[] = [];
    let length: string | undefined;
    let coding: string | undefined;
    let connection = "";
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(":");
      if (colon <= 0 || line.charCodeAt(0) === 0x20 || line.charCodeAt(0) === 0x09) throw new ResponseParseError(`malformed header line ${JSON.stringify(line.slice(0, 60))}`);
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).trim();
      headers.push(name, value);
      // Only three names decide the framing; compare lengths first to skip most lowercasing.
      if (name.length === 14 && name.toLowerCase() === "content-length") {
        if (length !== undefined && length !== value) throw new ResponseParseError("conflicting Content-Length headers");
        length = value;
      } else if (name.length === 17 && name.toLowerCase() === "transfer-encoding") coding = coding === undefined ? value : `${coding}, ${value}`;
      else if (name.length === 10 && name.toLowerCase() === "connection") connection += `,${value.toLowerCase()}`;
    }
    if (status < 200) return; // 100 Continue and friends: the final head follows

    const tokens = connection.split(",").map((t) => t.trim());
    this.reusable = http10 ? tokens.includes("keep-alive") : !tokens.includes("close");
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
