// The "sink" and "pushgateway" scenarios: the same load through each front in turn, in front of the
// same three upstreams (one at a time, so fronts never compete for the 2 cores).
import { drive, type LoadResult } from "./load.js";
import { direct, hasBinary, startDyshard, startNginx, startPushgateways, startSink, type FrontOrSkip, type Upstreams } from "./fronts.js";

/** Rounds the figures are the median of, and each round's CPU µs/req and req/s. */
interface Rounds {
  rounds: number;
  cpu_us_per_request_rounds: (number | null)[];
  requests_per_second_rounds: number[];
}

export interface Row extends Partial<LoadResult>, Partial<Rounds> {
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

/** BENCH_ROUNDS: rounds of the sink scenario (its rows carry the goals); the Pushgateway one runs once. */
export const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Each figure the median of the rounds (errors summed); every round's CPU and req/s kept beside it. */
function medianOf(runs: LoadResult[]): LoadResult & Rounds {
  const cpus = runs.map((r) => r.cpu_us_per_request);
  const known = cpus.filter((c): c is number => c !== null);
  const cpuS = runs.map((r) => r.cpu_s).filter((c): c is number => c !== null);
  return {
    requests: Math.round(median(runs.map((r) => r.requests))),
    requests_per_second: Math.round(median(runs.map((r) => r.requests_per_second))),
    p50_ms: median(runs.map((r) => r.p50_ms)),
    p99_ms: median(runs.map((r) => r.p99_ms)),
    cpu_s: cpuS.length ? round(median(cpuS)) : null,
    cpu_us_per_request: known.length ? Math.round(median(known) * 10) / 10 : null,
    errors: runs.reduce((n, r) => n + r.errors, 0),
    non_2xx: runs.reduce((n, r) => n + r.non_2xx, 0),
    rounds: runs.length,
    cpu_us_per_request_rounds: cpus,
    requests_per_second_rounds: runs.map((r) => r.requests_per_second),
  };
}

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
    {
      name: "direct",
      workers: null,
      start: async () => direct(upstreams, scenario === "sink" ? "sink (reference)" : "one Pushgateway (reference)"),
    },
    { name: "nginx 1 worker", workers: 1, start: () => startNginx(upstreams, 1) },
    ...(workers > 1 ? [{ name: `nginx ${workers} workers`, workers, start: () => startNginx(upstreams, workers) }] : []),
    { name: "dyshard --engine undici", workers: 1, start: () => startDyshard(upstreams, { engine: "undici" }) },
    { name: "dyshard --engine native", workers: 1, start: () => startDyshard(upstreams, { engine: "native" }) },
    { name: "dyshard --engine http-proxy", workers: 1, start: () => startDyshard(upstreams, { engine: "http-proxy" }) },
    ...["undici", "native"].map((engine) => {
      // Every push also writes its standby copy: what --replicas 2 costs beside the row above.
      const name = `dyshard --engine ${engine} --replicas 2`;
      return { name, workers: 1, start: () => startDyshard(upstreams, { engine, name, extra: ["--replicas", "2"] }) };
    }),
    { name: `dyshard --workers ${workers} (undici)`, workers, start: () => startDyshard(upstreams, { engine: "undici", workers }) },
    { name: `dyshard --workers ${workers} (native)`, workers, start: () => startDyshard(upstreams, { engine: "native", workers }) },
  ];
  // BENCH_FRONTS=nginx,native: only the rows whose name holds one of these (a quick comparison).
  const only = (process.env.BENCH_FRONTS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const chosen = only.length === 0 ? fronts : fronts.filter((f) => only.some((o) => f.name.includes(o)));
  // Rounds over every front in turn, so that a slow minute of this shared machine lands on all of
  // them alike; each figure is the median of its rounds.
  const rounds = scenario === "sink" ? ROUNDS : 1;
  const runs = new Map<string, LoadResult[]>();
  const skipped = new Map<string, string>();
  const labels = new Map<string, string>(); // the name a started front gives itself (e.g. "direct to sink (reference)")
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const f of chosen) {
        if (skipped.has(f.name)) continue;
        let front: FrontOrSkip;
        try {
          front = await f.start();
        } catch (err) {
          skipped.set(f.name, "failed to start");
          notes.push(`${f.name} failed to start: ${(err as Error).message.split("\n")[0]}`);
          log(notes.at(-1) as string);
          continue;
        }
        if ("skipped" in front) {
          skipped.set(f.name, front.skipped);
          const note = front.detail ?? front.skipped;
          if (!notes.includes(note)) notes.push(note);
          log(`${f.name}: ${front.skipped}`);
          continue;
        }
        labels.set(f.name, front.name);
        try {
          const r = await drive(front.url, front.pid);
          runs.set(f.name, [...(runs.get(f.name) ?? []), r]);
          log(
            `${rounds > 1 ? `round ${round}/${rounds} ` : ""}${front.name}: ${r.requests_per_second} req/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, CPU ${r.cpu_us_per_request ?? "–"} µs/req, errors ${r.errors}, non-2xx ${r.non_2xx}`,
          );
        } catch (err) {
          skipped.set(f.name, "failed");
          notes.push(`${front.name} failed: ${(err as Error).message}`);
          log(`${front.name}: failed: ${(err as Error).message}`);
        } finally {
          await front.stop();
        }
      }
    }
  } finally {
    await upstreams.stop();
  }
  for (const f of chosen) {
    const why = skipped.get(f.name);
    const r = runs.get(f.name);
    if (why !== undefined || r === undefined) rows.push({ front: f.name, workers: f.workers, skipped: why ?? "no figure" });
    else rows.push({ front: labels.get(f.name) ?? f.name, workers: f.workers, ...medianOf(r) });
  }
  const nginx = (w: number) => rows.find((r) => r.front.startsWith("nginx ") && r.workers === w && !r.skipped);
  const nginx1 = nginx(1);
  for (const r of rows) {
    if (r.skipped) continue;
    r.cpu_ratio_nginx_1w =
      r.cpu_us_per_request != null && nginx1?.cpu_us_per_request ? round(r.cpu_us_per_request / nginx1.cpu_us_per_request) : null;
    const ref = r.workers === null ? undefined : nginx(r.workers);
    r.rps_ratio_nginx =
      ref?.requests_per_second && r.requests_per_second !== undefined ? round(r.requests_per_second / ref.requests_per_second) : null;
  }
  return { scenario, upstream, rows, notes };
}
