// Real Pushgateway processes on loopback, persistence off (unless asked for), killed by PID at the end.
// One started with a --web.config.file of TLS and basic auth (test/support/tls.ts) is read over https
// with its credential, the readiness check included.
import { spawn, type ChildProcess } from "node:child_process";
import { Agent, request } from "undici";
import { requireBinary } from "./binaries.js";
import { freePort, waitFor } from "./ports.js";

/** How to reach a Pushgateway that serves HTTPS (and may want basic auth). */
export interface PushgatewayAccess {
  /** PEM of the CA its certificate is signed by. */
  ca: string;
  auth?: { username: string; password: string };
}

export interface PushgatewayGroup {
  labels: Record<string, string>;
  [metric: string]: unknown;
}

export class Pushgateway {
  private proc: ChildProcess | undefined;
  readonly url: string;
  private readonly agent: Agent | undefined;

  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
    private readonly access?: PushgatewayAccess,
  ) {
    this.url = `${access ? "https" : "http"}://127.0.0.1:${port}`;
    this.agent = access && new Agent({ connect: { ca: access.ca } });
  }

  /** `access`: it serves HTTPS (its --web.config.file among `extraArgs`), read with this CA and credential. */
  static async start(extraArgs: string[] = [], port?: number, access?: PushgatewayAccess): Promise<Pushgateway> {
    const pg = new Pushgateway(port ?? (await freePort()), extraArgs, access);
    await pg.restart();
    return pg;
  }

  /** Starts the process again on the same port: empty, unless `extraArgs` gave it a `--persistence.file=` of its own. */
  async restart(): Promise<void> {
    const bin = requireBinary("prometheus-pushgateway");
    const persistence = this.extraArgs.some((a) => a.startsWith("--persistence.file=")) ? [] : ["--persistence.file="];
    const proc = spawn(bin, [...persistence, `--web.listen-address=127.0.0.1:${this.port}`, "--log.level=warn", ...this.extraArgs], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    proc.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    this.proc = proc;
    const prefix = this.extraArgs.find((a) => a.startsWith("--web.route-prefix="))?.split("=")[1] ?? "";
    await waitFor(`pushgateway on ${this.port}`, async () => {
      if (proc.exitCode !== null) throw new Error(`pushgateway exited: ${stderr}`);
      return (await this.get(`${prefix}/-/ready`)).status === 200;
    });
  }

  /** A request to this instance: plain fetch, or over https with its CA and credential. */
  async get(path: string, method = "GET", body?: string): Promise<{ status: number; text: string }> {
    if (!this.access) {
      const res = await fetch(this.url + path, { method, ...(body === undefined ? {} : { body }) });
      return { status: res.status, text: await res.text() };
    }
    const auth = this.access.auth;
    const headers: Record<string, string> = auth
      ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}` }
      : {};
    const res = await request(this.url + path, { method: method as "GET", dispatcher: this.agent, headers, body: body ?? null });
    return { status: res.statusCode, text: await res.body.text() };
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** SIGKILL, as a crash; resolves when the process is gone. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once("exit", r));
    proc.kill(signal);
    await gone;
  }

  /** The groups this instance holds (GET /api/v1/metrics). */
  async groups(prefix = ""): Promise<PushgatewayGroup[]> {
    const res = await this.get(`${prefix}/api/v1/metrics`);
    return (JSON.parse(res.text) as { data: PushgatewayGroup[] }).data;
  }

  /** Its /metrics text, pushed series only (the gateway's own go_/process_/pushgateway_ series dropped). */
  async pushedSeries(): Promise<string[]> {
    const { text } = await this.get("/metrics");
    return text.split("\n").filter((l) => l && !l.startsWith("#") && !/^(go_|process_|pushgateway_|promhttp_)/.test(l));
  }
}

/** The first sample's value of metric family `name` in a group from the API (undefined when absent). */
export function familyValue(group: PushgatewayGroup, name: string): string | undefined {
  return (group[name] as { metrics?: { value?: string }[] } | undefined)?.metrics?.[0]?.value;
}

export async function startPushgateways(n: number, extraArgs: string[] = []): Promise<Pushgateway[]> {
  return Promise.all(Array.from({ length: n }, () => Pushgateway.start(extraArgs)));
}

export async function stopAll(pgs: Pushgateway[]): Promise<void> {
  await Promise.all(pgs.map((p) => p.kill()));
}
