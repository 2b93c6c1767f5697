// The "sink" and "pushgateway" scenarios: the same load through each front in turn, in front of the
// same three upstreams (one at a time, so fronts never compete for the 2 cores).
import { chosen, directRow, dyshardRow, ENGINES, nginxRow, type FrontSpec } from "./front-rows.js";
import { hasBinary, startDyshard, startPushgateways, startSink, type Upstreams } from "./fronts.js";
import { drive } from "./load.js";
import { inRounds, type FrontScenario } from "./rounds.js";

export type { FrontScenario, Row } from "./rounds.js";

/** BENCH_ROUNDS: rounds of the scenarios at saturation into the sink (their rows carry the goals); the Pushgateway one runs once. */
export const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

export const PUSHGATEWAY_MISSING = "prometheus-pushgateway not installed (apt-get install -y prometheus-pushgateway): scenario skipped";

export async function frontScenario(scenario: "sink" | "pushgateway", workers: number): Promise<FrontScenario> {
  const log = (s: string) => process.stdout.write(`[${scenario}] ${s}\n`);
  if (scenario === "pushgateway" && !hasBinary("prometheus-pushgateway")) {
    log(PUSHGATEWAY_MISSING);
    return { scenario, upstream: "3 Pushgateways", rows: [], notes: [PUSHGATEWAY_MISSING] };
  }
  const upstreams: Upstreams = scenario === "sink" ? await startSink(3) : await startPushgateways(3);
  const upstream = scenario === "sink" ? "3 sink ports (one process, reads the body, answers 200)" : "3 Pushgateways (persistence off)";
  const fronts: FrontSpec[] = [
    directRow(upstreams, scenario === "sink" ? "sink (reference)" : "one Pushgateway (reference)"),
    nginxRow(upstreams, 1),
    ...(workers > 1 ? [nginxRow(upstreams, workers)] : []),
    ...[...new Set([...ENGINES, "http-proxy"])].map((engine) => dyshardRow(upstreams, engine)),
    // Through Pushgateways, what --replicas 2 costs beside the rows above (into the sink: the
    // "replicas" scenario, in rounds).
    ...(scenario === "pushgateway" ? ENGINES.map((engine) => dyshardRow(upstreams, engine, 2)) : []),
    ...["undici", "native"].map((engine) => ({
      name: `dyshard --workers ${workers} (${engine})`,
      workers,
      start: () => startDyshard(upstreams, { engine, workers }),
    })),
  ];
  try {
    const { rows, notes } = await inRounds(chosen(fronts), scenario === "sink" ? ROUNDS : 1, (f) => drive(f.url, f.pid), log);
    return { scenario, upstream, rows, notes };
  } finally {
    await upstreams.stop();
  }
}
