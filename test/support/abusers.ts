// Abusive clients of one dyshard, run in a process of their own (test/integration/abuse.test.ts
// forks this file) so that their work does not slow the normal client the test measures. Each
// kind loops until told to stop and tallies what dyshard answered it; the tally goes back by IPC.
import net from "node:net";
import { prng } from "./prng.js";

export interface AbuseOptions {
  port: number;
  idle: number;
  /** dyshard's --max-body: oversized bodies declare twice as much, chunked ones send it twice over. */
  maxBody: number;
}

/** Statuses dyshard answered, by kind of abuser ("0": closed without an answer). */
export type Tally = Record<string, Record<string, number>>;

/** Between two requests of one abuser of each kind: about 15 a second each. */
const PAUSE_MS = 50;
/** Kinds that cost dyshard nothing but a connection each while they wait: 20 of each side by side. */
const SLOW = new Set(["slow-headers", "stalled-body"]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tally: Tally = {};
const sockets = new Set<net.Socket>();
let stopping = false;

function count(kind: string, status: string): void {
  const byStatus = (tally[kind] ??= {});
  byStatus[status] = (byStatus[status] ?? 0) + 1;
}

function open(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
}

/** Connects, lets `act` write (and `act` may destroy the socket), and counts the status dyshard answered. */
async function exchange(kind: string, port: number, act: (s: net.Socket) => Promise<void> | void): Promise<void> {
  const s = await open(port).catch(() => undefined);
  if (!s) return count(kind, "connect-failed");
  let received = "";
  s.on("data", (d: Buffer) => (received += d.toString("latin1")));
  s.on("error", () => {});
  const closed = new Promise<void>((r) => s.once("close", () => r()));
  await act(s);
  await closed;
  if (!stopping) count(kind, /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? "0");
}

/** Writes `bytes` one at a time, `everyMs` apart, until the socket closes or the test stops. */
async function trickle(s: net.Socket, bytes: string, everyMs: number): Promise<void> {
  for (let i = 0; !s.destroyed && !stopping; i = (i + 1) % bytes.length) {
    s.write(bytes[i] as string);
    await sleep(everyMs);
  }
}

const head = (length: number | "chunked") =>
  `PUT /metrics/job/abuser HTTP/1.1\r\nHost: x\r\n${length === "chunked" ? "Transfer-Encoding: chunked" : `Content-Length: ${length}`}\r\n\r\n`;

const KINDS: Record<string, (port: number, o: AbuseOptions, random: () => number) => Promise<void>> = {
  // Headers a byte every 200 ms, never finished: --client-header-timeout ends them (408).
  "slow-headers": (port) =>
    exchange("slow-headers", port, (s) => {
      s.write("PUT /metrics/job/slow HTTP/1.1\r\n");
      return trickle(s, "X-Slow: aaaaaaaaaa\r\n", 200);
    }),
  // A body that stops after 100 bytes: --client-body-timeout ends it (408).
  "stalled-body": (port) => exchange("stalled-body", port, (s) => void s.write(head(10_000) + "x".repeat(100))),
  "big-declared": (port, o) => exchange("big-declared", port, (s) => void s.write(head(2 * o.maxBody) + "x".repeat(16_384))),
  "big-chunked": (port, o) =>
    exchange("big-chunked", port, (s) => {
      s.write(head("chunked"));
      const chunk = `4000\r\n${"a 1\n".repeat(4096)}\r\n`; // 16 KiB of valid exposition a chunk
      for (let sent = 0; sent < 2 * o.maxBody && !s.destroyed; sent += 16_384) s.write(chunk);
    }),
  garbage: (port, _o, random) =>
    exchange("garbage", port, (s) => {
      const bytes = Buffer.alloc(64 + Math.floor(random() * 448));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
      bytes[0] = 0x01; // never a method's first byte, so always Node's parser's 400
      s.write(bytes);
    }),
  // Half a body, then gone: dyshard must drop what it read (and spooled) and forget the connection.
  vanish: (port) =>
    exchange("vanish", port, async (s) => {
      s.write(head(200_000) + "v 1\n".repeat(2000));
      await sleep(20);
      s.destroy();
    }),
};

/** A connection that asks once and then stays silent, held by dyshard's --client-idle-timeout. */
async function idle(port: number): Promise<void> {
  const s = await open(port).catch(() => undefined);
  if (!s) return count("idle", "connect-failed");
  s.on("error", () => {});
  const answered = new Promise<Buffer | undefined>((r) => s.once("data", r).once("close", () => r(undefined)));
  s.write("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n");
  const status = /^HTTP\/1\.1 (\d{3})/.exec((await answered)?.toString("latin1") ?? "")?.[1] ?? "0";
  count("idle", status);
  s.once("close", () => stopping || count("idle", "closed-early"));
}

async function loop(run: () => Promise<void>, pauseMs: number): Promise<void> {
  while (!stopping) {
    await run();
    await sleep(pauseMs);
  }
}

/** Idle keep-alive connections (one GET each, then silence) and bodies trickled a byte every 500 ms. */
async function holders(o: AbuseOptions): Promise<void> {
  for (let i = 0; i < o.idle; i += 100) await Promise.all(Array.from({ length: Math.min(100, o.idle - i) }, () => idle(o.port)));
  for (let i = 0; i < 50; i++)
    void exchange("trickled-body", o.port, (s) => {
      s.write(head(100_000));
      return trickle(s, "t 1\n", 500);
    });
}

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2] as string) as AbuseOptions;
  const random = prng(13);
  process.on("message", (msg) => {
    if (msg !== "stop") return;
    stopping = true;
    tally["open-at-stop"] = { sockets: sockets.size };
    for (const s of sockets) s.destroy();
    process.send?.({ tally }, () => process.exit(0));
  });
  await holders(o);
  for (const [kind, run] of Object.entries(KINDS))
    for (let i = 0; i < (SLOW.has(kind) ? 20 : 1); i++) void loop(() => run(o.port, o, random), PAUSE_MS);
  process.send?.("ready");
}

void main();
