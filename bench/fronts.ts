// The processes under test: upstreams (the sink, real Pushgateways) and fronts (nothing, nginx,
// dyshard), each started on loopback and stopped by PID.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, waitFor } from "../test/support/ports.js";
import { atExit, start, stop, type Started } from "./procs.js";

export const NGINX = process.env.BENCH_NGINX ?? "/usr/sbin/nginx"; // BENCH_NGINX=/nonexistent: the run without nginx
export const NGINX_MISSING = "nginx not installed (apt-get install -y nginx): nginx rows skipped";
const NGINX_SKIPPED = "skipped: nginx not installed";
const CLI = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const SINK = fileURLToPath(new URL("./sink.js", import.meta.url));

export interface Upstreams {
  urls: string[];
  /** Pushes the upstreams got so far (the sink counts them). */
  count?: () => Promise<number>;
  stop(): Promise<void>;
}

export interface Front {
  name: string;
  url: string;
  /** Root PID whose tree's CPU is the front's; undefined for "direct" (no front). */
  pid: number | undefined;
  /** Worker processes, for the req/s comparison with nginx; null when not comparable. */
  workers: number | null;
  stop(): Promise<void>;
}

/** `skipped` is short (it goes in the table); `detail` says more (it goes under it). */
export type FrontOrSkip = Front | { skipped: string; detail?: string };

async function ready(url: string, proc: Started, what: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(
    what,
    async () => {
      if (proc.proc.exitCode !== null || proc.proc.signalCode !== null) throw new Error(`${what} exited: ${proc.stderr().trim()}`);
      return (await fetch(url)).ok;
    },
    timeoutMs,
  ).catch(async (err: Error) => {
    await stop(proc);
    throw new Error(`${err.message}${proc.stderr() ? `\n${proc.stderr().trim()}` : ""}`);
  });
}

/** One sink process listening on `n` ports (`count`: it counts body bytes, see sink.ts). */
export async function startSink(n: number, count = false): Promise<Upstreams> {
  const ports = await Promise.all(Array.from({ length: n }, () => freePort()));
  const proc = start(process.execPath, [SINK, ...(count ? ["--count"] : []), ...ports.map(String)]);
  for (const p of ports) await ready(`http://127.0.0.1:${p}/-/ready`, proc, `sink on ${p}`);
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  const pushes = async () => ((await (await fetch(`${urls[0]}/-/total`)).json()) as { requests: number }).requests;
  return { urls, count: pushes, stop: () => stop(proc) };
}

export function hasBinary(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

/** `n` real Pushgateways, persistence off. */
/** `n` Pushgateways without persistence; `extra` flags for each (the sweep's seeding). */
export async function startPushgateways(n: number, extra: string[] = []): Promise<Upstreams> {
  const procs: Started[] = [];
  const urls: string[] = [];
  const stopAll = async () => void (await Promise.all(procs.map((p) => stop(p))));
  try {
    for (let i = 0; i < n; i++) {
      const port = await freePort();
      const proc = start("prometheus-pushgateway", [
        "--persistence.file=",
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
        ...extra,
      ]);
      procs.push(proc);
      await ready(`http://127.0.0.1:${port}/-/ready`, proc, `pushgateway on ${port}`);
      urls.push(`http://127.0.0.1:${port}`);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { urls, stop: stopAll };
}

/** No front: the load goes straight to the first upstream (the reference row). */
export function direct(upstreams: Upstreams, label: string): Front {
  return { name: `direct to ${label}`, url: upstreams.urls[0] as string, pid: undefined, workers: null, stop: async () => {} };
}

export function nginxVersion(): string | undefined {
  if (!existsSync(NGINX)) return undefined;
  const r = spawnSync(NGINX, ["-v"], { encoding: "utf8" });
  return (r.stderr || r.stdout).trim().replace(/^nginx version:\s*/, "");
}

/** Debian's nginx with `hash $request_uri consistent` and upstream keep-alive, `workers` worker processes. */
export async function startNginx(upstreams: Upstreams, workers: number): Promise<FrontOrSkip> {
  if (!existsSync(NGINX)) return { skipped: NGINX_SKIPPED, detail: NGINX_MISSING };
  const dir = mkdtempSync(join(tmpdir(), "dyshard-bench-nginx-"));
  chmodSync(dir, 0o755); // workers drop to `nobody` when started as root: they must reach the temp paths
  const port = await freePort();
  const conf = join(dir, "nginx.conf");
  writeFileSync(
    conf,
    `daemon off;
worker_processes ${workers};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_max_body_size 64m;
  keepalive_requests 1000000;
  upstream pg {
    hash $request_uri consistent;
${upstreams.urls.map((u) => `    server ${new URL(u).host};`).join("\n")}
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://pg;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
  );
  const proc = start(NGINX, ["-c", conf, "-p", dir, "-e", `${dir}/error.log`]);
  const url = `http://127.0.0.1:${port}`;
  const onExit = atExit(() => rmSync(dir, { recursive: true, force: true }));
  const cleanup = () => {
    rmSync(dir, { recursive: true, force: true });
    onExit.forget();
  };
  try {
    await ready(`${url}/-/ready`, proc, `nginx ${workers}w`);
  } catch (err) {
    cleanup();
    throw err;
  }
  return {
    name: `nginx ${workers} worker${workers > 1 ? "s" : ""}`,
    url,
    pid: proc.pid,
    workers,
    stop: async () => {
      await stop(proc);
      cleanup();
    },
  };
}

/**
 * dyshard serve with one engine (none given: its default); `workers` adds `--workers N`. A serve
 * command that refuses an option given here (e.g. `--workers` before it exists) gives a skipped
 * row, not an error.
 */
export async function startDyshard(
  upstreams: Upstreams,
  opts: { engine?: string; workers?: number; extra?: string[]; name?: string; nodeFlags?: string[]; onStdout?: (text: string) => void },
): Promise<FrontOrSkip> {
  const port = await freePort();
  const args = [
    ...(opts.nodeFlags ?? []),
    CLI,
    "serve",
    "--listen",
    `127.0.0.1:${port}`,
    ...(opts.engine === undefined ? [] : ["--engine", opts.engine]),
    "--log-level",
    "warn",
    "--rebalance-interval",
    "0",
    ...upstreams.urls.flatMap((u) => ["--upstream", u]),
  ];
  if (opts.workers !== undefined) args.push("--workers", String(opts.workers));
  args.push(...(opts.extra ?? []));
  const proc = start(process.execPath, args, { stdout: opts.onStdout ? "pipe" : "ignore" });
  if (opts.onStdout) proc.proc.stdout?.setEncoding("utf8").on("data", opts.onStdout);
  const url = `http://127.0.0.1:${port}`;
  const engine = opts.engine ?? "default engine";
  const name = opts.name ?? (opts.workers !== undefined ? `dyshard --workers ${opts.workers} (${engine})` : `dyshard --engine ${engine}`);
  try {
    await ready(`${url}/-/ready`, proc, name);
  } catch (err) {
    const stderr = proc.stderr();
    if (opts.workers !== undefined && /unknown option.*--workers/.test(stderr))
      return { skipped: "skipped: dyshard has no --workers", detail: `dyshard serve said: ${stderr.trim().split("\n")[0]}` };
    throw err;
  }
  return { name, url, pid: proc.pid, workers: opts.workers ?? 1, stop: () => stop(proc) };
}
