// The "gc" scenario's table and goal: no provoked run falls into the GC pattern.
import type { GcResult } from "./gc.js";
import { num, ok, table, type Goal } from "./tables.js";

export function gcSection(g: GcResult | { error: string }): string[] {
  if (!ok(g)) return [`failed: ${g.error}`];
  return [
    `dyshard (default engine) with \`${g.flags.join(" ")}\` and two busy loops beside it, the sink scenario's load at saturation, ${g.warm_s} s warm-up then ${g.timed_s} s read from the trace. In the pattern: more than ${g.pattern_pct}% of the young generation survives its scavenges.`,
    "",
    table(
      ["run", "pushes", "scavenges", "survived %", "promoted MiB", "Mark-Compacts", "in the pattern"],
      g.runs.map((r, i) => [
        String(i + 1),
        num(r.pushes),
        num(r.scavenges),
        num(r.survived_pct),
        num(r.promoted_mib),
        num(r.mark_compacts),
        r.in_pattern ? "YES" : "no",
      ]),
    ),
  ];
}

export function gcGoal(g: GcResult | { error: string } | undefined): Goal {
  const what = "GC pattern provoked (--min-semi-space-size=8, two busy loops), runs in it";
  if (!ok(g)) return { status: "SKIP", line: `${what}: ${g ? g.error : "gc scenario not run"}` };
  const status = g.in_pattern === 0 && g.runs.length > 0 ? "PASS" : "FAIL";
  return { status, line: `${what}: ${g.in_pattern} of ${g.runs.length} (goal 0): ${status}` };
}
