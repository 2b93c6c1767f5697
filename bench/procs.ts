// Child processes of the benchmark: every one is recorded and killed by PID (with its descendants,
// e.g. nginx workers or dyshard's cluster workers) when it is stopped, at exit, and on SIGINT/SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const children = new Set<ChildProcess>();
const cleanups = new Set<() => void>();

/** A synchronous clean-up (e.g. removing a temp dir) run by killAll unless `forget` is called first. */
export function atExit(fn: () => void): { forget: () => void } {
  cleanups.add(fn);
  return { forget: () => cleanups.delete(fn) };
}

export interface Started {
  proc: ChildProcess;
  pid: number;
  /** Everything the process wrote to stderr so far (capped). */
  stderr: () => string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<string>;
}

export function start(cmd: string, args: string[], opts: { stdout?: "ignore" | "inherit" | "pipe" } = {}): Started {
  const proc = spawn(cmd, args, { stdio: ["ignore", opts.stdout ?? "ignore", "pipe"] });
  if (proc.pid === undefined) throw new Error(`could not start ${cmd}`);
  children.add(proc);
  let err = "";
  proc.stderr?.on("data", (d: Buffer) => {
    if (err.length < 16_384) err += d.toString();
  });
  const exited = new Promise<string>((resolve) =>
    proc.once("exit", (code, signal) => {
      children.delete(proc);
      resolve(signal ?? String(code));
    }),
  );
  return { proc, pid: proc.pid, stderr: () => err, exited };
}

/** The PIDs of every live descendant of `pid` (from each process's parent PID in /proc/<pid>/stat). */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parentOf.set(Number(name), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf)
      if (parent === p) {
        out.push(child);
        walk(child);
      }
  };
  walk(pid);
  return out;
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; descendants found before the signal are killed too. */
export async function stop(s: Started, graceMs = 3000): Promise<void> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  const kids = descendants(s.pid);
  killPid(s.pid, "SIGTERM");
  const timer = new Promise((r) => setTimeout(r, graceMs).unref());
  if ((await Promise.race([s.exited.then(() => "exited"), timer])) !== "exited") killPid(s.pid, "SIGKILL");
  await Promise.race([s.exited, new Promise((r) => setTimeout(r, 1000).unref())]);
  for (const k of kids) killPid(k, "SIGKILL");
}

/** Synchronous last resort: SIGKILL every recorded child and its descendants. */
export function killAll(): void {
  for (const c of children) {
    if (c.pid === undefined) continue;
    const kids = descendants(c.pid);
    killPid(c.pid, "SIGKILL");
    for (const k of kids) killPid(k, "SIGKILL");
  }
  children.clear();
  for (const fn of cleanups) {
    try {
      fn();
    } catch {
      // best effort
    }
  }
  cleanups.clear();
}

process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    process.stderr.write(`\nbench: ${sig}, killing child processes\n`);
    killAll();
    process.exit(130);
  });
}
