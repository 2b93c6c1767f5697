// The "memory" scenario: 200 concurrent 20 MiB PUT pushes, streamed (Content-Length set, the body
// generated chunk by chunk, never held whole by the client), through one dyshard (each engine of
// BENCH_MEMORY_ENGINES in turn, default undici and native; --max-body 64MiB) to a sink that counts
// the bytes of each push. dyshard's RSS is sampled from /proc every 100 ms (after one small
// warm-up push); every push must be answered 200 with its full byte count, and the sink's total
// must be pushes x size.
import { setMaxListeners } from "node:events";
import http from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { snapshot, statusBytes } from "./cpu.js";
import { startDyshard, startSink } from "./fronts.js";

const PUSHES = Number(process.env.BENCH_MEMORY_PUSHES ?? 200);
const MIB_EACH = Number(process.env.BENCH_MEMORY_MIB ?? 20);
const TIMEOUT_S = Number(process.env.BENCH_MEMORY_TIMEOUT ?? 150);
const RSS_LIMIT_MIB = 150;
const CHUNK = Buffer.alloc(64 * 1024, "m"); // shared by every push: the client holds no body

export const MEMORY_ENGINES = (process.env.BENCH_MEMORY_ENGINES ?? "undici,native")
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean);

export interface MemoryResult {
  engine: string;
  pushes: number;
  bytes_each: number;
  duration_s: number;
  throughput_mib_s: number;
  idle_rss_mib: number;
  peak_rss_mib: number;
  hwm_mib: number | null;
  answered_200: number;
  complete_200: number;
  failure_count: number;
  /** The first ten. */
  failures: string[];
  sink_requests: number;
  sink_bytes: number;
  expected_bytes: number;
  all_bytes_arrived: boolean;
  rss_limit_mib: number;
  pass: boolean;
}

function* body(bytes: number): Generator<Buffer> {
  for (let left = bytes; left > 0; left -= CHUNK.length) yield left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
}

function push(
  url: string,
  path: string,
  bytes: number,
  agent: http.Agent,
  signal: AbortSignal,
): Promise<{ status: number; received: number | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}${path}`,
      { method: "PUT", agent, signal, headers: { "content-type": "text/plain", "content-length": bytes } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => {
          let received: number | undefined;
          try {
            received = (JSON.parse(text) as { bytes?: number }).bytes;
          } catch {
            // not the sink's answer (e.g. dyshard's own error)
          }
          resolve({ status: res.statusCode ?? 0, received });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    pipeline(Readable.from(body(bytes)), req).catch(reject);
  });
}

const mib = (b: number) => Math.round((b / 1048576) * 10) / 10;

export async function memory(engine: string): Promise<MemoryResult> {
  const bytesEach = MIB_EACH * 1048576;
  const log = (s: string) => process.stdout.write(`[memory] ${s}\n`);
  const sink = await startSink(3, true);
  const stops = [sink.stop];
  try {
    const front = await startDyshard(sink, { engine, extra: ["--max-body", "64MiB", "--upstream-timeout", `${TIMEOUT_S}s`] });
    if ("skipped" in front) throw new Error(front.skipped);
    stops.unshift(front.stop);
    const pid = front.pid as number;
    // One small push first, as any dyshard in service has served: undici compiles its WebAssembly
    // HTTP parser on its first connection (~30 MiB for a moment), which is start-up, not the burst.
    const warm = await push(front.url, "/metrics/job/memory/instance/warm-up", 1024, new http.Agent(), AbortSignal.timeout(10_000));
    if (warm.status !== 200) throw new Error(`warm-up push answered ${warm.status}`);
    const sinkTotal = async () => (await (await fetch(`${sink.urls[0]}/-/total`)).json()) as { requests: number; bytes: number };
    const before = await sinkTotal();
    const rssNow = () => [...snapshot(pid).keys()].reduce((s, p) => s + (statusBytes(p, "VmRSS") ?? 0), 0);
    const idle = rssNow();
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, rssNow())), 100);
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    const abort = new AbortController();
    setMaxListeners(PUSHES + 10, abort.signal); // one listener per push
    const timer = setTimeout(() => abort.abort(new Error(`timed out after ${TIMEOUT_S}s`)), TIMEOUT_S * 1000);
    log(`${PUSHES} concurrent ${MIB_EACH} MiB pushes through dyshard --engine ${engine} (pid ${pid}, idle RSS ${mib(idle)} MiB)`);
    const t0 = Date.now();
    const results = await Promise.allSettled(
      Array.from({ length: PUSHES }, (_, i) => push(front.url, `/metrics/job/memory/instance/push-${i}`, bytesEach, agent, abort.signal)),
    );
    const duration = (Date.now() - t0) / 1000;
    clearTimeout(timer);
    clearInterval(sampler);
    peak = Math.max(peak, rssNow());
    const hwm = [...snapshot(pid).keys()].reduce((s, p) => s + (statusBytes(p, "VmHWM") ?? 0), 0);
    const after = await sinkTotal();
    const total = { requests: after.requests - before.requests, bytes: after.bytes - before.bytes };
    agent.destroy();

    const failures: string[] = [];
    let answered = 0;
    let complete = 0;
    results.forEach((r, i) => {
      if (r.status === "rejected") return failures.push(`push ${i}: ${(r.reason as Error).message}`);
      if (r.value.status !== 200) return failures.push(`push ${i}: status ${r.value.status}`);
      answered++;
      if (r.value.received === bytesEach) complete++;
      else failures.push(`push ${i}: upstream received ${r.value.received ?? "?"} of ${bytesEach} bytes`);
    });
    const expected = PUSHES * bytesEach;
    const allBytes = total.bytes === expected && total.requests === PUSHES && complete === PUSHES;
    const result: MemoryResult = {
      engine,
      pushes: PUSHES,
      bytes_each: bytesEach,
      duration_s: Math.round(duration * 10) / 10,
      throughput_mib_s: Math.round(mib(expected) / duration),
      idle_rss_mib: mib(idle),
      peak_rss_mib: mib(peak),
      hwm_mib: hwm > 0 ? mib(hwm) : null,
      answered_200: answered,
      complete_200: complete,
      failure_count: failures.length,
      failures: failures.slice(0, 10),
      sink_requests: total.requests,
      sink_bytes: total.bytes,
      expected_bytes: expected,
      all_bytes_arrived: allBytes,
      rss_limit_mib: RSS_LIMIT_MIB,
      pass: allBytes && Math.max(peak, hwm) < RSS_LIMIT_MIB * 1048576,
    };
    log(
      `${duration.toFixed(1)} s, peak RSS ${result.peak_rss_mib} MiB (VmHWM ${result.hwm_mib ?? "?"} MiB), ${answered}/${PUSHES} answered 200, ${complete} complete, sink ${total.bytes} of ${expected} bytes in ${total.requests} pushes`,
    );
    if (failures.length) log(`${failures.length} failures, first: ${failures.slice(0, 3).join("; ")}`);
    return result;
  } finally {
    for (const stop of stops) await stop();
  }
}
