// Real Prometheus servers (Debian's 2.42) on loopback with a throwaway TSDB, killed by PID at the
// end; the API calls the tests make of them.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { requireBinary } from "./binaries.js";
import { freePort, waitFor } from "./ports.js";

export interface ActiveTarget {
  scrapePool: string;
  scrapeUrl: string;
  health: "up" | "down" | "unknown";
  labels: Record<string, string>;
  discoveredLabels: Record<string, string>;
}

/** One series of a matrix: its labels and [time s, value] samples in time order. */
export interface Series {
  metric: Record<string, string>;
  values: [number, number][];
}

export class Prometheus {
  private proc: ChildProcess | undefined;
  readonly url: string;
  private stderr = "";

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Starts one with `config` (prometheus.yml text) and waits until it is ready. */
  static async start(config: string, port?: number): Promise<Prometheus> {
    const prom = new Prometheus(port ?? (await freePort()), mkdtempSync(path.join(tmpdir(), "dyshard-prometheus-")));
    writeFileSync(prom.configFile, config);
    await prom.restart();
    return prom;
  }

  get configFile(): string {
    return path.join(this.dir, "prometheus.yml");
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Starts the process (again) on the same port and TSDB. */
  async restart(): Promise<void> {
    const bin = requireBinary("prometheus");
    const proc = spawn(
      bin,
      [
        `--config.file=${this.configFile}`,
        `--storage.tsdb.path=${path.join(this.dir, "data")}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    this.stderr = "";
    proc.stderr?.on("data", (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.proc = proc;
    await waitFor(
      `prometheus on ${this.port}`,
      async () => {
        if (proc.exitCode !== null) throw new Error(`prometheus exited: ${this.stderr}`);
        return (await fetch(`${this.url}/-/ready`)).ok;
      },
      30_000,
      100,
    );
  }

  /** Stops it (SIGTERM unless told otherwise); resolves when the process is gone. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once("exit", r));
    proc.kill(signal);
    const late = setTimeout(() => proc.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(late);
  }

  /** Stops it and removes its TSDB. */
  async remove(): Promise<void> {
    await this.stop("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }

  async activeTargets(pool?: string): Promise<ActiveTarget[]> {
    const body = (await (await fetch(`${this.url}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: ActiveTarget[] } };
    return body.data.activeTargets.filter((t) => pool === undefined || t.scrapePool === pool);
  }

  /** An instant query's vector: each series' labels and value. */
  async query(promql: string): Promise<{ metric: Record<string, string>; value: number }[]> {
    const body = (await (await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`)).json()) as {
      status: string;
      error?: string;
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== "success") throw new Error(`query ${promql}: ${body.error ?? body.status}`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** A range query's matrix: each series' labels and its [time s, value] samples. */
  queryRange(promql: string, startS: number, endS: number, stepS: number): Promise<Series[]> {
    return this.matrix("query_range", { query: promql, start: String(startS), end: String(endS), step: String(stepS) });
  }

  /** Every sample stored for `selector` in (startS, endS], as a range vector returns them (no steps, no lookback). */
  samples(selector: string, startS: number, endS: number): Promise<Series[]> {
    return this.matrix("query", { query: `${selector}[${Math.ceil((endS - startS) * 1000)}ms]`, time: String(endS) });
  }

  private async matrix(api: "query" | "query_range", params: Record<string, string>): Promise<Series[]> {
    const body = (await (await fetch(`${this.url}/api/v1/${api}?${new URLSearchParams(params).toString()}`)).json()) as {
      status: string;
      error?: string;
      data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
    };
    if (body.status !== "success") throw new Error(`${api} ${params.query}: ${body.error ?? body.status}`);
    return body.data.result.map((r) => ({ metric: r.metric, values: r.values.map(([t, v]) => [t, Number(v)] as [number, number]) }));
  }
}
