// The "sink" and "pushgateway" scenarios: the same load through each front in turn, in front of the
// same three upstreams (one at a time, so fronts never compete for the 2 cores).
import { drive, type LoadResult } from "./load.js";
import { direct, hasBinary, startDyshard, startNginx, startPushgateways, startSink, type FrontOrSkip, type Upstreams } from "./fronts.js";

export interface Row extends Partial<LoadResult> {
  front: string;
  workers: number | null;
  /** Why the row has no figures (front absent, refused an option, failed). */
  skipped?: string;
  cpu_ratio_nginx_1w?: number | null;
  rps_ratio_nginx?: number | null;
}

export interface FrontScenario {
  scenario: "sink" | "pushgateway";
  upstream: string;
  rows: Row[];
  notes: string[];
}

const round = (x: number) => Math.round(x * 100) / 100;

export async function frontScenario(scenario: "sink" | "pushgateway", workers: number): Promise<FrontScenario> {
  const notes: string[] = [];
  const rows: Row[] = [];
  const log = (s: string) => process.stdout.write(`[${scenario}] ${s}\n`);
  if (scenario === "pushgateway" && !hasBinary("prometheus-pushgateway")) {
    notes.push("prometheus-pushgateway not installed (apt-get install -y prometheus-pushgateway): scenario skipped");
    log(notes[0] as string);
    return { scenario, upstream: "3 Pushgateways", rows, notes };
  }
  const upstreams: Upstreams = scenario === "sink" ? await startSink(3) : await startPushgateways(3);
  const upstream = scenario === "sink" ? "3 sink ports (one process, reads the body, answers 200)" : "3 Pushgateways (persistence off)";
  const fronts: { name: string; workers: number | null; start: () => Promise<FrontOrSkip> }[] = [
    { name: "direct", workers: null, start: async () => direct(upstreams, scenario === "sink" ? "sink (reference)" : "one Pushgateway (reference)") },
    { name: "nginx 1 worker", workers: 1, start: () => startNginx(upstreams, 1) },
    ...(workers > 1 ? [{ name: `nginx ${workers} workers`, workers, start: () => startNginx(upstreams, workers) }] : []),
    { name: "dyshard --engine undici", workers: 1, start: () => startDyshard(upstreams, { engine: "undici" }) },
    { name: "dyshard --engine native", workers: 1, start: () => startDyshard(upstreams, { engine: "native" }) },
    { name: "dyshard --engine http-proxy", workers: 1, start: () => startDyshard(upstreams, { engine: "http-proxy" }) },
    { name: `dyshard --workers ${workers} (undici)`, workers, start: () => startDyshard(upstreams, { engine: "undici", workers }) },
    { name: `dyshard --workers ${workers} (native)`, workers, start: () => startDyshard(upstreams, { engine: "native", workers }) },
  ];
  // BENCH_FRONTS=nginx,native: only the rows whose name holds one of these (a quick comparison).
  const only = (process.env.BENCH_FRONTS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const chosen = only.length === 0 ? fronts : fronts.filter((f) => only.some((o) => f.name.includes(o)));
  try {
    for (const f of chosen) {
      let front: FrontOrSkip;
      try {
        front = await f.start();
      } catch (err) {
        rows.push({ front: f.name, workers: f.workers, skipped: "failed to start" });
        notes.push(`${f.name} failed to start: ${(err as Error).message.split("\n")[0]}`);
        log(notes.at(-1) as string);
        continue;
      }
      if ("skipped" in front) {
        rows.push({ front: f.name, workers: f.workers, skipped: front.skipped });
        const note = front.detail ?? front.skipped;
        if (!notes.includes(note)) notes.push(note);
        log(`${f.name}: ${front.skipped}`);
        continue;
      }
      try {
        const r = await drive(front.url, front.pid);
        rows.push({ front: front.name, workers: front.workers, ...r });
        log(`${front.name}: ${r.requests_per_second} req/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, CPU ${r.cpu_us_per_request ?? "–"} µs/req, errors ${r.errors}, non-2xx ${r.non_2xx}`);
      } catch (err) {
        rows.push({ front: front.name, workers: front.workers, skipped: "failed" });
        notes.push(`${front.name} failed: ${(err as Error).message}`);
        log(`${front.name}: failed: ${(err as Error).message}`);
      } finally {
        await front.stop();
      }
    }
  } finally {
    await upstreams.stop();
  }
  const nginx = (w: number) => rows.find((r) => r.front.startsWith("nginx ") && r.workers === w && !r.skipped);
  const nginx1 = nginx(1);
  for (const r of rows) {
    if (r.skipped) continue;
    r.cpu_ratio_nginx_1w = r.cpu_us_per_request != null && nginx1?.cpu_us_per_request ? round(r.cpu_us_per_request / nginx1.cpu_us_per_request) : null;
    const ref = r.workers === null ? undefined : nginx(r.workers);
    r.rps_ratio_nginx = ref?.requests_per_second && r.requests_per_second !== undefined ? round(r.requests_per_second / ref.requests_per_second) : null;
  }
  return { scenario, upstream, rows, notes };
}
