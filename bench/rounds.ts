// Front rows taken in rounds: every chosen front in turn is started, driven and stopped, `rounds`
// times over, so that a slow minute of this shared machine lands on all of them alike; each figure
// is the median of its rounds, and each row's CPU per push is set beside nginx 1 worker's.
import type { FrontSpec, RowTags } from "./front-rows.js";
import type { Front, FrontOrSkip } from "./fronts.js";
import type { LoadResult } from "./load.js";

/** Rounds the figures are the median of, and each round's CPU µs/req and req/s. */
interface Rounds {
  rounds: number;
  cpu_us_per_request_rounds: (number | null)[];
  requests_per_second_rounds: number[];
}

export interface Row extends Partial<LoadResult>, Partial<Rounds>, RowTags {
  front: string;
  workers: number | null;
  /** Why the row has no figures (front absent, refused an option, failed). */
  skipped?: string;
  cpu_ratio_nginx_1w?: number | null;
  rps_ratio_nginx?: number | null;
}

export interface FrontScenario {
  scenario: "sink" | "pushgateway" | "wrk" | "replicas";
  upstream: string;
  /** The load, when it is not the autocannon one of load.ts. */
  load?: string;
  rows: Row[];
  notes: string[];
}

export const round = (x: number) => Math.round(x * 100) / 100;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Each figure the median of the rounds (errors summed); every round's CPU and req/s kept beside it. */
function medianOf(runs: LoadResult[]): LoadResult & Rounds {
  const cpus = runs.map((r) => r.cpu_us_per_request);
  const known = cpus.filter((c): c is number => c !== null);
  const cpuS = runs.map((r) => r.cpu_s).filter((c): c is number => c !== null);
  const perPush = runs.map((r) => r.upstream_requests_per_push).filter((x): x is number => x !== undefined);
  return {
    requests: Math.round(median(runs.map((r) => r.requests))),
    requests_per_second: Math.round(median(runs.map((r) => r.requests_per_second))),
    p50_ms: median(runs.map((r) => r.p50_ms)),
    p99_ms: median(runs.map((r) => r.p99_ms)),
    cpu_s: cpuS.length ? round(median(cpuS)) : null,
    cpu_us_per_request: known.length ? Math.round(median(known) * 10) / 10 : null,
    errors: runs.reduce((n, r) => n + r.errors, 0),
    non_2xx: runs.reduce((n, r) => n + r.non_2xx, 0),
    ...(perPush.length ? { upstream_requests_per_push: round(median(perPush)) } : {}),
    rounds: runs.length,
    cpu_us_per_request_rounds: cpus,
    requests_per_second_rounds: runs.map((r) => r.requests_per_second),
  };
}

/** Every front of `fronts`, `rounds` times in turn, each driven by `run`; one row per front. */
export async function inRounds(
  fronts: FrontSpec[],
  rounds: number,
  run: (front: Front) => Promise<LoadResult>,
  log: (s: string) => void,
): Promise<{ rows: Row[]; notes: string[] }> {
  const notes: string[] = [];
  const runs = new Map<string, LoadResult[]>();
  const skipped = new Map<string, string>();
  const labels = new Map<string, string>(); // the name a started front gives itself (e.g. "direct to sink (reference)")
  for (let r = 1; r <= rounds; r++) {
    for (const f of fronts) {
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
        const x = await run(front);
        runs.set(f.name, [...(runs.get(f.name) ?? []), x]);
        const perPush = x.upstream_requests_per_push === undefined ? "" : `, ${x.upstream_requests_per_push} upstream requests/push`;
        log(
          `${rounds > 1 ? `round ${r}/${rounds} ` : ""}${front.name}: ${x.requests_per_second} req/s, p50 ${x.p50_ms} ms, p99 ${x.p99_ms} ms, CPU ${x.cpu_us_per_request ?? "–"} µs/req, errors ${x.errors}, non-2xx ${x.non_2xx}${perPush}`,
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
  const rows: Row[] = fronts.map((f) => {
    const why = skipped.get(f.name);
    const r = runs.get(f.name);
    if (why !== undefined || r === undefined) return { front: f.name, workers: f.workers, ...f.tags, skipped: why ?? "no figure" };
    return { front: labels.get(f.name) ?? f.name, workers: f.workers, ...f.tags, ...medianOf(r) };
  });
  setRatios(rows);
  return { rows, notes };
}

/** CPU per push against nginx 1 worker's, requests/s against nginx's with as many workers. */
function setRatios(rows: Row[]): void {
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
}
