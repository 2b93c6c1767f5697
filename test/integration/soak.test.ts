// The chaos soak, short (issue 13; `npm run soak` runs it longer): clients push continuously while
// instances are SIGKILLed (restarted with their disk), SIGSTOPped and resumed, restarted empty,
// Consul is stopped and restarted, or replaced by one without its state, and every instance hangs
// at once; with --replicas 2 and without. Bounds (test/support/soak/verdict.ts, report.ts): no push
// fails but a 503/502 inside a window with every instance down or none in Consul (±2 s) or a hung
// owner's 504; no group lost with standby copies; every group once on its owner (and its standby
// copy on the next) with its last acknowledged value, or a later one answered 502/504 that the
// instance may still have applied; dyshard's RSS ends within +50% of the warm-up's peak (+30% in
// runs of 60 s or more, once the heap has grown to the load). The driver does every kind of fault at
// least once, taking longer than SECONDS if it must.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runSoak } from "../support/soak/run.js";

const SECONDS = 25;
const SEED = 20261202;

describe("chaos soak (short)", () => {
  for (const replicas of [1, 2]) {
    it(`--replicas ${replicas}: ${SECONDS} s of faults lose nothing they should not, fail no push outside them, keep RSS flat`, async () => {
      const result = await runSoak({ seconds: SECONDS, replicas, seed: SEED + replicas, groups: 100, clients: 4 });
      for (const line of result.figures) process.stdout.write(`# ${line}\n`);
      assert.deepEqual(result.problems, []);
    });
  }
});
