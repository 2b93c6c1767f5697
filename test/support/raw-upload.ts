// A push written by hand on a node:net socket, so a test can send its body at any pace (or stall
// it) and see exactly what dyshard answers and whether it closes the connection.
import net from "node:net";

export class RawUpload {
  /** Everything dyshard sent back, as text. */
  received = "";
  /** Resolves when dyshard (or the test) closed the connection. */
  readonly closed: Promise<void>;
  private trickle: NodeJS.Timeout | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on("data", (d: Buffer) => (this.received += d.toString("latin1")));
    socket.on("error", () => {}); // a reset after an answer is part of what tests look at
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    void this.closed.then(() => this.stopTrickle());
  }

  /** Opens a connection and sends the request head; `length` is the declared Content-Length, or "chunked". */
  static async open(base: string, path: string, length: number | "chunked", method = "PUT"): Promise<RawUpload> {
    const u = new URL(base);
    const socket = net.connect(Number(u.port), u.hostname);
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const framing = length === "chunked" ? "transfer-encoding: chunked" : `content-length: ${length}`;
    socket.write(`${method} ${path} HTTP/1.1\r\nhost: ${u.host}\r\n${framing}\r\n\r\n`);
    return new RawUpload(socket);
  }

  send(bytes: Buffer | string): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Sends `body` at about `bytesPerSecond`, in ten slices a second. */
  trickleOut(body: Buffer, bytesPerSecond: number): void {
    const slice = Math.max(1, Math.round(bytesPerSecond / 10));
    let at = 0;
    this.trickle = setInterval(() => {
      if (at >= body.length) return this.stopTrickle();
      this.send(body.subarray(at, at + slice));
      at += slice;
    }, 100);
  }

  /** Sends `body` as chunked frames of `size` bytes, then the last chunk. */
  sendChunked(body: Buffer, size: number): void {
    for (let at = 0; at < body.length; at += size) {
      const chunk = body.subarray(at, at + size);
      this.send(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]));
    }
    this.send("0\r\n\r\n");
  }

  /** Waits (at most `timeoutMs`) for the head of dyshard's answer; its status, 0 when none came. */
  async answer(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.status === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.status;
  }

  /** The status of dyshard's answer, once its head has arrived (0 before). */
  get status(): number {
    const m = this.received.match(/^HTTP\/1\.1 (\d{3})/);
    return m ? Number(m[1]) : 0;
  }

  header(name: string): string | undefined {
    const head = this.received.split("\r\n\r\n")[0] ?? "";
    const line = head.split("\r\n").find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ":"));
    return line?.slice(name.length + 1).trim();
  }

  get answerBody(): string {
    return this.received.split("\r\n\r\n").slice(1).join("\r\n\r\n");
  }

  close(): void {
    this.stopTrickle();
    this.socket.destroy();
  }

  private stopTrickle(): void {
    if (this.trickle) clearInterval(this.trickle);
    this.trickle = undefined;
  }
}

/** A valid exposition body of about `bytes` bytes: `series` lines of one gauge, values 0..n-1. */
export function exposition(metric: string, bytes: number): { body: Buffer; series: number } {
  const lines: string[] = [`# TYPE ${metric} gauge`];
  let size = lines[0]!.length + 1;
  for (let i = 0; size < bytes; i++) {
    const line = `${metric}{i="${String(i).padStart(8, "0")}"} ${i}`;
    lines.push(line);
    size += line.length + 1;
  }
  return { body: Buffer.from(lines.join("\n") + "\n"), series: lines.length - 1 };
}

/** How many series of `metric` the Pushgateway holds in group {job} and whether their values are 0..n-1. */
export async function storedSeries(
  pg: { groups(): Promise<Record<string, unknown>[]> },
  job: string,
  metric: string,
): Promise<{ series: number; intact: boolean }> {
  const group = (await pg.groups()).find((g) => (g.labels as Record<string, string>).job === job);
  const family = group?.[metric] as { metrics: { labels: { i: string }; value: string }[] } | undefined;
  if (!family) return { series: 0, intact: false };
  const intact = family.metrics.every((m) => Number(m.labels.i) === Number(m.value));
  return { series: family.metrics.length, intact };
}
