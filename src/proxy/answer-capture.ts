// An upstream's answer kept aside instead of written to the client, for a push whose answer must
// wait (--replicas: the client hears the primary's answer once the standby write is done too).
// It offers what the engines use of a ServerResponse (writeHead with a raw header list or an
// object, setHeader, write, end, destroy, its events) and replays the answer into the real one.
// Pushgateway answers are a few bytes, so holding them costs nothing.
import type { ServerResponse } from "node:http";
import { Writable } from "node:stream";

export class AnswerCapture extends Writable {
  statusCode = 200;
  statusMessage = "";
  headersSent = false;
  private readonly headers = new Map<string, string | string[]>();
  private raw: string[] | undefined;
  private readonly chunks: Buffer[] = [];

  /** Cut off with the client (when there is one): the engine sees a client gone, as it would on the real response. */
  constructor(client?: ServerResponse) {
    super();
    client?.once("close", () => {
      if (!client.writableFinished && !this.writableFinished) this.destroy();
    });
  }

  writeHead(status: number, headers?: string[] | Record<string, string | string[]>): this {
    this.statusCode = status;
    if (Array.isArray(headers)) this.raw = headers;
    else for (const [k, v] of Object.entries(headers ?? {})) this.headers.set(k, v);
    this.headersSent = true;
    return this;
  }

  setHeader(name: string, value: string | string[]): this {
    this.headers.set(name, value);
    return this;
  }

  getHeader(name: string): string | string[] | undefined {
    return this.headers.get(name);
  }

  removeHeader(name: string): void {
    this.headers.delete(name);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.headersSent = true;
    this.chunks.push(chunk);
    done();
  }

  /** An answer ended without a body (http-proxy pipes an empty one: no write) has been sent all the same. */
  override _final(done: (err?: Error | null) => void): void {
    this.headersSent = true;
    done();
  }

  /**
   * Writes the kept answer to the client; a cut-off answer cuts the client off too. The answer is
   * whole once end() ran (_write keeps each chunk at once), though 'finish' comes a tick later: a
   * 504 dyshard wrote itself may be replayed in the very tick it was written.
   */
  replayInto(res: ServerResponse): void {
    if (res.destroyed) return;
    if (!this.writableEnded || (this.destroyed && !this.writableFinished)) {
      res.destroy();
      return;
    }
    const body = Buffer.concat(this.chunks);
    const head = this.raw ?? [...this.headers].flatMap(([k, v]) => (Array.isArray(v) ? v.flatMap((one) => [k, one]) : [k, v]));
    res.writeHead(this.statusCode, head).end(body);
  }
}
