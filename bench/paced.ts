// A paced load for the "rates" scenario. autocannon's overallRate sends each connection's share of
// a second in one burst when the second starts (saturation for a moment, then idle); here push k
// leaves at k/rate s, on a free keep-alive connection of a pool of BENCH_CONNECTIONS, like clients
// arriving spread out. A push due while every connection is busy is missed (the front or its
// upstream cannot hold the rate), not queued. Same 1 KiB body over the same 256 groups as load.ts.
import { Pool } from "undici";
import { BODY, CONNECTIONS, CONTENT_TYPE, GROUPS, groupPath } from "./load.js";

export interface PacedRun {
  /** Pushes answered (2xx or not). */
  requests: number;
  /** From the first push sent to the last answer (at least the run's length). */
  elapsed_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  non_2xx: number;
  missed: number;
}

const HEADERS = { "content-type": CONTENT_TYPE };

export function pacedPool(url: string): Pool {
  return new Pool(url, { connections: CONNECTIONS, headersTimeout: 10_000, bodyTimeout: 10_000 });
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? Math.round((sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] as number) * 100) / 100 : 0;
}

/** `rate` pushes a second for `seconds` through `pool`; resolves once every push sent is answered. */
export function paced(pool: Pool, rate: number, seconds: number): Promise<PacedRun> {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  const n = { issued: 0, inFlight: 0, errors: 0, non2xx: 0, missed: 0, last: 0 };
  const t0 = performance.now();
  return new Promise((resolve) => {
    const finish = () => {
      latencies.sort((a, b) => a - b);
      resolve({
        requests: latencies.length,
        elapsed_s: Math.max(seconds, (n.last - t0) / 1000),
        p50_ms: percentile(latencies, 50),
        p99_ms: percentile(latencies, 99),
        errors: n.errors,
        non_2xx: n.non2xx,
        missed: n.missed,
      });
    };
    const send = (k: number) => {
      n.inFlight++;
      const sent = performance.now();
      pool
        .request({ path: groupPath(k % GROUPS), method: "PUT", body: BODY, headers: HEADERS })
        .then(async (res) => {
          await res.body.dump();
          if (res.statusCode < 200 || res.statusCode >= 300) n.non2xx++;
          latencies.push(performance.now() - sent);
        })
        .catch(() => n.errors++)
        .finally(() => {
          n.inFlight--;
          n.last = performance.now();
          if (n.issued >= total && n.inFlight === 0) finish();
        });
    };
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
      for (; n.issued < due; n.issued++) {
        if (n.inFlight < CONNECTIONS) send(n.issued);
        else n.missed++;
      }
      if (n.issued < total) setTimeout(tick, Math.max(0, t0 + (n.issued / rate) * 1000 - performance.now()));
      else if (n.inFlight === 0) finish();
    };
    tick();
  });
}
