// Differential fuzzing in the suite: 2,000 generated push paths (fixed seed) sent to a bare
// Pushgateway and through dyshard; statuses, messages, Locations and stored groups must agree
// (the deliberate differences: pushes that break an instance are refused, twins stored as their
// group). `npm run fuzz -- --n 20000 --seed S` runs longer ones.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { App } from "../../src/runtime/single-process.js";
import { differential } from "../support/differential.js";
import { startDyshard } from "../support/dyshard.js";
import { fuzzPaths } from "../support/fuzz-paths.js";
import { Pushgateway } from "../support/pushgateway.js";

const SEED = 20261202;
const N = 2000;

describe("differential fuzz: a bare Pushgateway and dyshard answer and store alike", () => {
  let bare: Pushgateway;
  let behind: Pushgateway;
  let app: App;
  before(async () => {
    [bare, behind] = await Promise.all([Pushgateway.start(["--web.enable-admin-api"]), Pushgateway.start(["--web.enable-admin-api"])]);
    app = await startDyshard([behind.url], { rebalanceInterval: "0" });
  });
  after(async () => {
    await app?.stop();
    await Promise.all([bare?.kill(), behind?.kill()]);
  });

  it(`${N} paths, seed ${SEED}, PUT and POST: no mismatch`, async () => {
    const paths = fuzzPaths(SEED, N);
    assert.equal(new Set(paths).size > N * 0.95, true, "the generator gives distinct paths");
    const port = Number(new URL(app.url).port);
    const mismatches = await differential({ bare, front: { port }, behind }, paths, ["PUT", "POST"]);
    process.stdout.write(`# fuzz: ${N} paths (seed ${SEED}), ${mismatches.length} mismatches\n`);
    assert.deepEqual(mismatches.slice(0, 10), []);
  });
});
