// The normal client of a robustness test: sequential pushes on one keep-alive connection, timed,
// so a test can compare its latency quiet and beside abusive clients (test/integration/abuse.test.ts).
import { Pool } from "undici";

export class NormalClient {
  private readonly pool: Pool;
  private n = 0;
  /** Every answer other than 200, as status and text. */
  readonly failures: string[] = [];

  constructor(url: string) {
    this.pool = new Pool(url, { connections: 1 });
  }

  /** Pushes until `count` are done or `untilMs` has passed, whichever comes first; each one's milliseconds. */
  async push(count: number, untilMs = Infinity): Promise<number[]> {
    const ms: number[] = [];
    const deadline = performance.now() + untilMs;
    while (ms.length < count && performance.now() < deadline) {
      const i = this.n++;
      const t0 = performance.now();
      const res = await this.pool.request({ path: `/metrics/job/normal/instance/i${i % 50}`, method: "PUT", body: `normal_metric ${i}\n` });
      const text = await res.body.text();
      ms.push(performance.now() - t0);
      if (res.statusCode !== 200) this.failures.push(`${res.statusCode} ${text}`);
    }
    return ms;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export function p99(ms: number[]): number {
  const sorted = [...ms].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] as number;
}
