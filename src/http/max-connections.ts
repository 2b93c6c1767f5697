// How many client connections one process of dyshard keeps open (--max-connections). "auto" sizes
// it for the machine: every client connection is a file descriptor, and at worst a second one
// while its body is spooled (src/proxy/spool.ts); the rest of the process (upstream pools of 64
// connections each, health checks, Consul, the handover, Node itself) keeps a reserve.
import { readFileSync } from "node:fs";

/** Assumed when the limit cannot be read (not Linux): the usual soft limit, so the guess errs low. */
const FALLBACK_OPEN_FILES = 1024;
const MIN_CONNECTIONS = 64;

/**
 * This process's share. A value given is for all --workers together, shared out as --max-spool is
 * (the cluster's round robin spreads connections evenly); "auto" (0) is each process's own, since
 * every worker has an open-file limit of its own.
 */
export function connectionLimit(configured: number, workers: number, openFiles = openFileLimit()): number {
  if (configured > 0) return Math.max(1, Math.ceil(configured / workers));
  return sizedFor(openFiles);
}

/** Half of what the reserve leaves (a quarter of the limit, at most 1024 descriptors). */
export function sizedFor(openFiles: number): number {
  const reserve = Math.min(1024, Math.floor(openFiles / 4));
  return Math.max(MIN_CONNECTIONS, Math.floor((openFiles - reserve) / 2));
}

/** The soft RLIMIT_NOFILE (Node raises it to the hard limit as it starts), from /proc/self/limits. */
export function openFileLimit(): number {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
    return soft && /^\d+$/.test(soft) ? Number(soft) : FALLBACK_OPEN_FILES;
  } catch {
    return FALLBACK_OPEN_FILES;
  }
}
