// The demo's processes (scripts/demo.ts): found on the PATH, started on a preferred port or else a
// free one, and stopped by PID: only the ones the demo started, also when it fails or dies.
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";

export const HOST = "127.0.0.1";

export interface Server {
  name: string;
  url: string;
  port: number;
  proc: ChildProcess;
}

export interface ServerSpec {
  name: string;
  bin: string;
  args: (port: number) => string[];
  /** Tried first when free; else, or when it fails there, a free port (three tries in all). */
  preferred: number;
  readyPath: string;
  readyWithinMs: number;
  /** Said when it exits without the demo having stopped or killed it. */
  onUnexpectedExit?: (server: Server, how: string) => void;
}

const started = new Set<ChildProcess>(); // every process this demo spawned
const expected = new Set<ChildProcess>(); // exits the demo caused
const cleanups: (() => void)[] = []; // synchronous, e.g. removing a scratch folder
let stopping = false;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = (p: ChildProcess) => p.exitCode === null && p.signalCode === null;

export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Starts `spec` on its preferred port if that is free, else (or if that fails) on a free port. */
export async function startServer(spec: ServerSpec): Promise<Server> {
  const candidates = [(await portIsFree(spec.preferred)) ? spec.preferred : await freePort()];
  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = candidates[attempt] ?? (await freePort());
    const server = { name: spec.name, url: `http://${HOST}:${port}`, port, proc: undefined as unknown as ChildProcess };
    const failed = await launch(server, spec);
    if (failed === undefined) return server;
    lastError = failed;
  }
  throw new Error(`could not start ${spec.name}: ${lastError}`);
}

/** Starts `server` again on its own port (after a kill); throws if it does not come up. */
export async function restartServer(server: Server, spec: ServerSpec): Promise<void> {
  const failed = await launch(server, spec);
  if (failed !== undefined) throw new Error(`could not restart ${server.name} on port ${server.port}: ${failed}`);
}

/** One try on `server.port`: undefined once ready, else what went wrong (the process is stopped). */
async function launch(server: Server, spec: ServerSpec): Promise<string | undefined> {
  const proc = spawn(spec.bin, spec.args(server.port), { stdio: ["ignore", "ignore", "pipe"] });
  started.add(proc);
  let stderr = "";
  proc.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  proc.once("error", (err) => (stderr += String(err)));
  const deadline = Date.now() + spec.readyWithinMs;
  while (Date.now() < deadline && alive(proc)) {
    try {
      if ((await fetch(`${server.url}${spec.readyPath}`, { signal: AbortSignal.timeout(1000) })).ok) {
        server.proc = proc;
        proc.once("exit", (code, signal) => {
          if (!stopping && !expected.has(proc)) spec.onUnexpectedExit?.(server, signal ?? `code ${code}`);
        });
        return undefined;
      }
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await stopProcess(proc);
  return stderr.trim() || `not ready on port ${server.port} within ${spec.readyWithinMs / 1000}s`;
}

/** Kills one of the demo's processes on purpose (SIGKILL, as a crash); resolves when it is gone. */
export async function killOnPurpose(proc: ChildProcess): Promise<void> {
  if (!alive(proc) || proc.pid === undefined) return;
  expected.add(proc);
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  process.kill(proc.pid, "SIGKILL");
  await exited;
}

/** SIGTERM by PID, then SIGKILL if it has not exited within 5s. */
export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (!alive(proc) || proc.pid === undefined) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const within = (ms: number) => Promise.race([exited.then(() => true), sleep(ms).then(() => false)]);
  try {
    process.kill(proc.pid, "SIGTERM");
  } catch {
    return; // already gone
  }
  if (await within(5000)) return;
  try {
    process.kill(proc.pid, "SIGKILL");
  } catch {
    return;
  }
  await within(2000);
}

/** From now on, exits are expected (Ctrl-C reaches the children too). */
export function markStopping(): void {
  stopping = true;
}

/** Runs `fn` when the demo stops, however it stops. */
export function atStop(fn: () => void): void {
  cleanups.push(fn);
}

/** Stops every process this demo started, and runs the clean-ups. */
export async function stopStarted(): Promise<void> {
  stopping = true;
  await Promise.all([...started].map(stopProcess));
  runCleanups();
}

function runCleanups(): void {
  for (const fn of cleanups.splice(0)) {
    try {
      fn();
    } catch {
      // best effort
    }
  }
}

// Last resort: if the demo dies some other way, leave nothing it started behind.
process.on("exit", () => {
  for (const proc of started) {
    if (alive(proc) && proc.pid !== undefined) {
      try {
        process.kill(proc.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
  runCleanups();
});
