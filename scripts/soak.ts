// `npm run soak -- --seconds 120 --replicas 2 --seed S`: the chaos soak, longer than the suite's
// (test/integration/soak.test.ts). Without --replicas both variants run (1, then 2), each for
// --seconds (default 60). Exit code 1 when a check failed; the figures are printed either way.
import { runSoak } from "../test/support/soak/run.js";

function arg(name: string, fallback: number, min: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < min) {
    process.stderr.write(`soak: --${name} takes a whole number of at least ${min}, not ${process.argv[i + 1]}\n`);
    process.exit(2);
  }
  return v;
}

const seconds = arg("seconds", 60, 5);
const seed = arg("seed", Date.now() % 1_000_000_000, 0);
const groups = arg("groups", 100, 1);
const clients = arg("clients", 4, 1);
const variants = process.argv.includes("--replicas") ? [arg("replicas", 1, 1)] : [1, 2];
let failed = false;
for (const replicas of variants) {
  const log = (line: string) => process.stdout.write(`  ${new Date().toISOString()} --replicas ${replicas}: ${line}\n`);
  const result = await runSoak({ seconds, replicas, seed, groups, clients, log });
  for (const line of result.figures) process.stdout.write(`# ${line}\n`);
  for (const p of result.problems) process.stdout.write(`PROBLEM ${p}\n`);
  failed ||= result.problems.length > 0;
}
process.stdout.write(`soak: ${failed ? "FAILED" : "passed"} (seed ${seed})\n`);
process.exitCode = failed ? 1 : 0;
