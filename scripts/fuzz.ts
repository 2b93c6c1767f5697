// `npm run fuzz -- --n 20000 --seed S`: a longer differential fuzz than the suite's (2,000 paths):
// generated push paths sent to a bare Pushgateway and through dyshard, every mismatch printed.
import { differential } from "../test/support/differential.js";
import { startDyshard } from "../test/support/dyshard.js";
import { fuzzPaths } from "../test/support/fuzz-paths.js";
import { Pushgateway } from "../test/support/pushgateway.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 0) {
    process.stderr.write(`fuzz: --${name} takes a whole number, not ${process.argv[i + 1]}\n`);
    process.exit(2);
  }
  return v;
}

const n = arg("n", 20_000);
const seed = arg("seed", Date.now() % 1_000_000_000);
const [bare, behind] = await Promise.all([Pushgateway.start(["--web.enable-admin-api"]), Pushgateway.start(["--web.enable-admin-api"])]);
const app = await startDyshard([behind.url], { rebalanceInterval: "0", logLevel: "silent" });
try {
  process.stdout.write(`fuzz: ${n} paths, seed ${seed} (PUT and POST), a bare Pushgateway against dyshard\n`);
  const started = performance.now();
  const mismatches = await differential(
    { bare, front: { port: Number(new URL(app.url).port) }, behind },
    fuzzPaths(seed, n),
    ["PUT", "POST"],
    (done) => process.stdout.write(`  ${done} of ${n}\n`),
  );
  for (const m of mismatches)
    process.stdout.write(
      `MISMATCH ${m.method} ${m.path}: ${m.what}: Pushgateway ${JSON.stringify(m.bare)}, dyshard ${JSON.stringify(m.dyshard)}\n`,
    );
  process.stdout.write(
    `fuzz: ${n} paths in ${((performance.now() - started) / 1000).toFixed(1)} s, ${mismatches.length} mismatches (seed ${seed})\n`,
  );
  process.exitCode = mismatches.length > 0 ? 1 : 0;
} finally {
  await app.stop();
  await Promise.all([bare.kill(), behind.kill()]);
}
