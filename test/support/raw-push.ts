// A push request with its path sent exactly as written (node:http does not normalise it; fetch
// would), for parity and differential tests against real Pushgateways.
import { request, type IncomingHttpHeaders } from "node:http";

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** No answer within the timeout: the request hangs (a broken Pushgateway route). */
export class NoAnswer extends Error {}

/** One request with the path sent exactly as given (node:http does not normalise it, fetch would). */
export function sendRaw(port: number, method: string, path: string, body?: string, timeoutMs = 5000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { connection: "close" };
    if (body !== undefined) {
      headers["content-type"] = "text/plain; version=0.0.4";
      headers["content-length"] = String(Buffer.byteLength(body));
    }
    const req = request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", reject);
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new NoAnswer(`${method} ${path}: no answer within ${timeoutMs}ms`));
    }, timeoutMs);
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}
