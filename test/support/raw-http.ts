// Requests written byte for byte onto a TCP socket, for what HTTP clients will not send: absolute
// forms, raw UTF-8 in the target, lowercase methods, two Host headers, CONNECT.
import net from "node:net";

export interface RawAnswer {
  /** 0 when the connection closed without an answer. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Milliseconds from connecting to the socket's close. */
  closedAfterMs: number;
}

/** Sends `request` (latin1 bytes) and reads until the server closes the connection. */
export function rawRequest(port: number, request: string | Buffer, timeoutMs = 5000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, "127.0.0.1", () =>
      socket.write(typeof request === "string" ? Buffer.from(request, "latin1") : request),
    );
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", () => {}); // a reset after the answer is still an answer
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${timeoutMs}ms; got ${JSON.stringify(Buffer.concat(chunks).toString("latin1"))}`));
    }, timeoutMs);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ ...parse(Buffer.concat(chunks).toString("latin1")), closedAfterMs: Date.now() - started });
    });
  });
}

function parse(text: string): Omit<RawAnswer, "closedAfterMs"> {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return { status: 0, headers: {}, body: text };
  const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(":");
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  let body = text.slice(end + 4);
  if (headers["transfer-encoding"] === "chunked") body = unchunk(body);
  return { status: Number(statusLine?.split(" ")[1] ?? 0), headers, body };
}

function unchunk(body: string): string {
  let out = "";
  for (let at = 0; ;) {
    const eol = body.indexOf("\r\n", at);
    const size = parseInt(body.slice(at, eol), 16);
    if (!size) return out;
    out += body.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/** A request with `Connection: close`, so the answer ends with the connection. */
export function closing(requestLine: string, headers: string[] = ["Host: x"], body = ""): string {
  const length = body || /^(PUT|POST|put|post)/.test(requestLine) ? [`Content-Length: ${Buffer.byteLength(body, "latin1")}`] : [];
  return [requestLine, ...headers, ...length, "Connection: close", "", body].join("\r\n");
}
