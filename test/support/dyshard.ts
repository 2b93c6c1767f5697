// dyshard in-process (fast, for most tests) or as a real process (for signals and the CLI).
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Writable } from "node:stream";
import { Agent, request } from "undici";
import { loadConfig } from "../../src/config/load.js";
import { createLogger } from "../../src/core/logger.js";
import { startApp, type App } from "../../src/runtime/single-process.js";
import { freePort, waitFor } from "./ports.js";

export const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

/** Starts dyshard in this process on a free port; `flags` as the CLI takes them (camelCase keys). */
export async function startDyshard(upstreams: string[], flags: Record<string, unknown> = {}): Promise<App & { logs: string[] }> {
  const config = loadConfig({
    flags: { listen: "127.0.0.1:0", upstream: upstreams, healthInterval: "200ms", healthTimeout: "500ms", ...flags },
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString().split("\n").filter(Boolean));
      cb();
    },
  });
  const app = await startApp(config, createLogger("info", sink));
  return Object.assign(app, { logs });
}

export interface DyshardProcess {
  proc: ChildProcess;
  url: string;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `node dist/src/cli/main.js serve ...` on a free port and waits until it answers. */
export async function spawnDyshard(args: string[], env: NodeJS.ProcessEnv = {}, listenPort?: number): Promise<DyshardProcess> {
  const port = listenPort ?? (await freePort());
  const proc = spawn(process.execPath, [CLI, "serve", "--listen", `127.0.0.1:${port}`, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  // With --tls-cert it serves HTTPS: up is all this asks (whether its certificate is trusted is the test's).
  const secure = args.includes("--tls-cert");
  const url = `${secure ? "https" : "http"}://127.0.0.1:${port}`;
  const dispatcher = secure ? new Agent({ connect: { rejectUnauthorized: false } }) : undefined;
  await waitFor(`dyshard on ${port}`, async () => {
    if (proc.exitCode !== null) throw new Error(`dyshard exited ${proc.exitCode}: ${out}`);
    const res = await request(`${url}/-/healthy`, { dispatcher, reset: true });
    await res.body.dump();
    return res.statusCode === 200;
  });
  await dispatcher?.close();
  return {
    proc,
    url,
    output: () => out,
    stop: async (signal = "SIGTERM") => {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
      proc.kill(signal);
      return exited;
    },
  };
}

/** `--workers N` over these upstreams, with fast checks and only triggered handover runs; `extra` flags come first. */
export function spawnWorkers(upstreams: string[], workers: number, extra: string[] = []): Promise<DyshardProcess> {
  const flags = ["--workers", String(workers), "--health-interval", "200ms", "--rebalance-interval", "0", "--rebalance-settle", "200ms"];
  return spawnDyshard([...extra, ...flags, ...upstreams.flatMap((u) => ["--upstream", u])]);
}

/** spawnWorkers, then waits until dyshard is ready (a worker sees a healthy upstream). */
export async function spawnReadyWorkers(upstreams: string[], workers: number, extra: string[] = []): Promise<DyshardProcess> {
  const d = await spawnWorkers(upstreams, workers, extra);
  await waitFor("the workers serving", async () => (await fetch(`${d.url}/-/ready`)).ok);
  return d;
}

/** Sends SIGTERM and waits at most 8 s: the exit code (or "still running") and how long it took. */
export async function timeSigterm(d: DyshardProcess, what: string): Promise<{ code: number | null | "still running"; ms: number }> {
  const t0 = performance.now();
  const exited = new Promise<number | null>((r) => d.proc.once("exit", (code) => r(code)));
  d.proc.kill("SIGTERM");
  const code = await Promise.race([exited, new Promise<"still running">((r) => setTimeout(() => r("still running"), 8000))]);
  const ms = performance.now() - t0;
  process.stdout.write(
    `# SIGTERM ${what}: ${code === "still running" ? "still running after 8 s" : `exited (${code}) in ${ms.toFixed(0)} ms`}\n`,
  );
  return { code, ms };
}
