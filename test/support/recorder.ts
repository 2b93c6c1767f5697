// A scriptable upstream for what a real Pushgateway cannot show: the exact headers and bytes it
// received, connection reuse, slow answers, and a death in the middle of an answer.
import { createHash } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bytes: number;
  sha256: string;
  body: Buffer;
}

export class Recorder {
  readonly requests: Recorded[] = [];
  connections = 0;
  /** Decides how to answer; the default is 200 with an empty body, like a Pushgateway PUT. */
  behave: (req: Recorded, res: ServerResponse) => void = (_req, res) => res.writeHead(200).end();
  private server!: http.Server;
  url = "";

  static async start(): Promise<Recorder> {
    const r = new Recorder();
    r.server = http.createServer((req, res) => r.onRequest(req, res));
    r.server.on("connection", () => r.connections++);
    await new Promise<void>((resolve) => r.server.listen(0, "127.0.0.1", resolve));
    r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}`;
    return r;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    const hash = createHash("sha256");
    let bytes = 0;
    req.on("data", (c: Buffer) => {
      bytes += c.length;
      hash.update(c);
      if (bytes <= 1024 * 1024) chunks.push(c);
    });
    req.on("end", () => {
      const rec = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        bytes,
        sha256: hash.digest("hex"),
        body: Buffer.concat(chunks),
      };
      this.requests.push(rec);
      this.behave(rec, res);
    });
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
