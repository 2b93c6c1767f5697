// The "replicas" scenario: dyshard --replicas 2 beside --replicas 1, each engine, the sink scenario's
// load at saturation through 3 sink ports: with 2 every push also writes its standby copy (2
// upstream requests per push, counted by the sink), and the figure is CPU per client push.
import { chosen, dyshardRow, ENGINES } from "./front-rows.js";
import { startSink } from "./fronts.js";
import { drive } from "./load.js";
import { inRounds, type FrontScenario } from "./rounds.js";
import { ROUNDS } from "./throughput.js";

export async function replicas(): Promise<FrontScenario> {
  const log = (s: string) => process.stdout.write(`[replicas] ${s}\n`);
  const upstreams = await startSink(3);
  const fronts = ENGINES.flatMap((engine) => [1, 2].map((n) => dyshardRow(upstreams, engine, n)));
  try {
    const { rows, notes } = await inRounds(chosen(fronts), ROUNDS, (f) => drive(f.url, f.pid, upstreams.count), log);
    return { scenario: "replicas", upstream: "3 sink ports (one process, reads the body, answers 200, counts the pushes)", rows, notes };
  } finally {
    await upstreams.stop();
  }
}
