// The soak's world: three real Pushgateways that keep a disk (a persistence file, flushed every
// 200 ms, so a SIGKILL loses only the last moments and "restarted empty" is a wiped disk), the Consul
// emulator they are registered in, and dyshard as a real process following it.
import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConsulEmulator } from "../consul-emulator.js";
import { spawnDyshard, type DyshardProcess } from "../dyshard.js";
import { waitFor } from "../ports.js";
import { Pushgateway } from "../pushgateway.js";

export const INSTANCES = 3;
/** dyshard's --upstream-timeout here: how long a push to a hung instance waits for its 504. */
export const UPSTREAM_TIMEOUT_MS = 1000;

const FLAGS = [
  ["--discovery", "consul"],
  ["--consul-wait", "2s"],
  ["--consul-register"],
  ["--consul-check-interval", "200ms"],
  ["--consul-check-timeout", "1s"],
  ["--health-interval", "200ms"],
  ["--health-timeout", "1s"],
  ["--health-fall", "2"],
  ["--health-rise", "1"],
  ["--upstream-timeout", `${UPSTREAM_TIMEOUT_MS}ms`],
  ["--rebalance-interval", "2s"],
  ["--rebalance-settle", "300ms"],
  ["--rebalance-lock-ttl", "2s"],
  ["--log-level", "warn"],
].flat();

const CONSUL = { minCheckIntervalMs: 100, allowShortSessionTtl: true, sessionTtlMultiplier: 1 };

export class SoakCluster {
  private consulPaused = false;

  private constructor(
    readonly pgs: Pushgateway[],
    public consul: ConsulEmulator,
    readonly dyshard: DyshardProcess,
    private readonly dir: string,
  ) {}

  static async start(replicas: number): Promise<SoakCluster> {
    const dir = mkdtempSync(join(tmpdir(), "dyshard-soak-"));
    const disk = (i: number) => [`--persistence.file=${join(dir, `pg${i}.db`)}`, "--persistence.interval=200ms"];
    const [pgs, consul] = await Promise.all([
      Promise.all(Array.from({ length: INSTANCES }, (_, i) => Pushgateway.start(disk(i)))),
      ConsulEmulator.start(CONSUL),
    ]);
    const args = [...FLAGS, "--consul-address", consul.url, "--replicas", String(replicas), ...pgs.flatMap((p) => ["--upstream", p.url])];
    const dyshard = await spawnDyshard(args);
    const cluster = new SoakCluster(pgs, consul, dyshard, dir);
    await cluster.allHealthy(15_000);
    return cluster;
  }

  get url(): string {
    return this.dyshard.url;
  }

  /** Removes instance i's persistence file (it must be down): it comes back empty. */
  wipeDisk(i: number): void {
    rmSync(join(this.dir, `pg${i}.db`), { force: true });
  }

  async pauseConsul(): Promise<void> {
    this.consulPaused = true;
    await this.consul.pause();
  }

  async resumeConsul(): Promise<void> {
    await this.consul.resume();
    this.consulPaused = false;
  }

  /** Consul stopped, and a new one (without the old one's state) started on its port. */
  async replaceConsul(): Promise<void> {
    const port = this.consul.port;
    await this.consul.stop();
    this.consul = await ConsulEmulator.start({ ...CONSUL, port });
  }

  /** The Consul of the moment holds every Pushgateway, passing. */
  consulHoldsAll(): boolean {
    const passing = this.consul.services().filter((s) => s.Service === "pushgateway" && s.Checks.every((c) => c.Status === "passing"));
    return passing.length === INSTANCES;
  }

  /** dyshard's view: how many of its members are healthy. */
  async healthyMembers(): Promise<number> {
    const ring = (await (await fetch(`${this.url}/-/dyshard/ring`, { signal: AbortSignal.timeout(2000) })).json()) as {
      healthy_members: number;
    };
    return ring.healthy_members;
  }

  allHealthy(timeoutMs: number): Promise<void> {
    return waitFor("dyshard to see every instance healthy", async () => (await this.healthyMembers()) === INSTANCES, timeoutMs, 100);
  }

  /** Runs the handover until a run finds nothing misplaced and fails nothing (the lock may need a moment). */
  async settle(timeoutMs: number): Promise<void> {
    await this.allHealthy(timeoutMs);
    await waitFor(
      "a clean handover run",
      async () => {
        const res = await fetch(`${this.url}/-/dyshard/rebalance`, { method: "POST", signal: AbortSignal.timeout(10_000) });
        const report = (await res.json().catch(() => ({}))) as { misplaced?: number; skipped?: string };
        return res.status === 200 && report.misplaced === 0 && !report.skipped;
      },
      timeoutMs,
      200,
    );
  }

  /** dyshard's resident set (VmRSS of /proc/PID/status), in bytes. */
  async rss(): Promise<number> {
    const status = await readFile(`/proc/${this.dyshard.proc.pid}/status`, "utf8");
    return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN) * 1024;
  }

  /** Each named metric on dyshard's /metrics: a name sums its series, a name with `{labels}` is that series. */
  async metrics(names: string[]): Promise<Record<string, number>> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const out: Record<string, number> = {};
    for (const name of names) {
      const series = name.includes("{") ? name.replace(/[{}]/g, "\\$&") : `${name}(?:\\{[^}]*\\})?`;
      out[name] = [...text.matchAll(new RegExp(`^${series} (\\S+)$`, "gm"))].reduce((s, m) => s + Number(m[1]), 0);
    }
    return out;
  }

  /** Everything back up, then everything stopped (only the processes this cluster started). */
  async stop(): Promise<void> {
    for (const pg of this.pgs) resume(pg.pid);
    if (this.consulPaused) await this.consul.resume().catch(() => undefined);
    await this.dyshard.stop("SIGKILL");
    await this.consul.stop();
    await Promise.all(this.pgs.map((p) => p.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** SIGCONT to a process this cluster may have stopped (it may be gone). */
function resume(pid: number | undefined): void {
  try {
    if (pid) process.kill(pid, "SIGCONT");
  } catch {
    // already exited
  }
}
