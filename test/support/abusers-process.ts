// The abusive clients (test/support/abusers.ts) as a child process: started, then stopped for
// their tally of what dyshard answered them.
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { AbuseOptions, Tally } from "./abusers.js";

const SCRIPT = fileURLToPath(new URL("./abusers.js", import.meta.url));

export class AbusersProcess {
  private constructor(private readonly child: ChildProcess) {}

  /** Resolves once the idle connections are open and every kind of abuser runs. */
  static async start(o: AbuseOptions): Promise<AbusersProcess> {
    const child = fork(SCRIPT, [JSON.stringify(o)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const [first] = (await Promise.race([once(child, "message"), once(child, "exit")])) as [unknown];
    if (first !== "ready") throw new Error(`the abusers did not start (${String(first)})`);
    return new AbusersProcess(child);
  }

  /** Stops every abuser (their connections closed) and returns what dyshard answered them. */
  async stop(): Promise<Tally> {
    const tally = once(this.child, "message");
    this.child.send("stop");
    return ((await tally)[0] as { tally: Tally }).tally;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

/** Several rounds' tallies added up. */
export function mergeTallies(tallies: Tally[]): Tally {
  const out: Tally = {};
  for (const t of tallies)
    for (const [kind, byStatus] of Object.entries(t))
      for (const [status, n] of Object.entries(byStatus)) (out[kind] ??= {})[status] = (out[kind]?.[status] ?? 0) + n;
  return out;
}
