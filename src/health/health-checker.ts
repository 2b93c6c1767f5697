// Active health checks: GET <url>/-/ready on an interval, with rise/fall thresholds so that one
// slow answer does not move groups around. Passive detection (a refused or reset connection seen
// by the forwarder) marks a member down at once; bringing it back is left to these checks.
import { request } from "undici";
import { errorText } from "../core/errors.js";
import type { Membership, Member } from "../membership/membership.js";
import { UpstreamAccess } from "../upstream/upstream-access.js";

export interface HealthCheckOptions {
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
}

export class HealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private readonly streak = new WeakMap<Member, number>(); // >0: passes in a row, <0: failures in a row
  private running = false;

  constructor(
    private readonly membership: Membership,
    private readonly opts: HealthCheckOptions,
    /** How https servers are verified and which credential a check carries. */
    private readonly access: UpstreamAccess = UpstreamAccess.DEFAULT,
  ) {
    membership.on("change", ({ member }) => this.streak.delete(member));
  }

  start(): void {
    if (this.timer) return;
    const tick = () => void this.checkAll().finally(() => this.timer && this.timer.refresh());
    this.timer = setTimeout(tick, this.opts.intervalMs);
    this.timer.unref();
    void this.checkAll();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  async checkAll(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await Promise.all(this.membership.active().map((m) => this.checkOne(m)));
    } finally {
      this.running = false;
    }
  }

  private async checkOne(m: Member): Promise<void> {
    const result = await probe(m.url, this.opts.timeoutMs, this.access);
    const prev = this.streak.get(m) ?? 0;
    const streak = result.ok ? Math.max(prev, 0) + 1 : Math.min(prev, 0) - 1;
    this.streak.set(m, streak);
    if (!m.checksHealthy && streak >= this.opts.rise) this.membership.setHealth(m.slot, true, `${streak} passing checks of /-/ready`);
    else if (m.checksHealthy && -streak >= this.opts.fall)
      this.membership.setHealth(m.slot, false, `${-streak} failing checks of /-/ready: ${result.detail}`);
  }
}

async function probe(url: string, timeoutMs: number, access: UpstreamAccess): Promise<{ ok: boolean; detail: string }> {
  try {
    const res = await request(`${url}/-/ready`, {
      method: "GET",
      dispatcher: access.dispatcher,
      headers: access.headerObject(url),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body.dump();
    return { ok: res.statusCode === 200, detail: res.statusCode === 401 ? "status 401 (unauthorized)" : `status ${res.statusCode}` };
  } catch (err) {
    return { ok: false, detail: errorText(err, timeoutMs) };
  }
}
