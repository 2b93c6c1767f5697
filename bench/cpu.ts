// CPU time and memory of a front, from /proc: utime+stime of the process and all its descendants
// (nginx master + workers, dyshard primary + cluster workers).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { descendants } from "./procs.js";

export const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

function ticksOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]); // fields 14, 15 of stat(5): utime, stime
  } catch {
    return undefined;
  }
}

/** Per-PID CPU ticks of `root` and its live descendants. */
export function snapshot(root: number): Map<number, number> {
  const m = new Map<number, number>();
  for (const pid of [root, ...descendants(root)]) {
    const t = ticksOf(pid);
    if (t !== undefined) m.set(pid, t);
  }
  return m;
}

/** CPU seconds spent between two snapshots (a process born in between counts from zero). */
export function cpuSeconds(before: Map<number, number>, after: Map<number, number>): number {
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  return ticks / CLK_TCK;
}

/** A field of /proc/<pid>/status in bytes (VmRSS, VmHWM), or undefined when the process is gone. */
export function statusBytes(pid: number, field: "VmRSS" | "VmHWM"): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
