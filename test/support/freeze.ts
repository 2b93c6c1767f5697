// SIGSTOP and SIGCONT that wait until they took effect. kill(2) returns before every thread of the
// target has stopped: under load a Go Pushgateway was seen answering a request sent 1 ms after
// SIGSTOP, which made "an instance that hangs" tests pass or fail by chance. `freeze` therefore
// waits until each thread is in state T (stopped) in /proc, `thaw` until none is.
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

function threadStates(pid: number): string[] {
  const states: string[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      // The state follows the command name, which is in parentheses and may hold spaces.
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      states.push(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3));
    } catch {
      // A thread that ended meanwhile.
    }
  }
  return states;
}

async function until(pid: number, what: string, done: (states: string[]) => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done(threadStates(pid))) {
    if (Date.now() > deadline) throw new Error(`process ${pid} not ${what} within ${timeoutMs} ms: threads ${threadStates(pid).join("")}`);
    await sleep(1);
  }
}

const stopped = (s: string) => s === "T" || s === "t";

/** SIGSTOP `pid`, then wait until every one of its threads has stopped. */
export async function freeze(pid: number, timeoutMs = 2000): Promise<void> {
  process.kill(pid, "SIGSTOP");
  await until(pid, "stopped", (states) => states.length > 0 && states.every(stopped), timeoutMs);
}

/** SIGCONT `pid`, then wait until none of its threads is stopped. */
export async function thaw(pid: number, timeoutMs = 2000): Promise<void> {
  process.kill(pid, "SIGCONT");
  await until(pid, "running", (states) => !states.some(stopped), timeoutMs);
}
