// A figure, not a timed assertion: how long a merged GET /api/v1/metrics takes over 3 instances
// holding 5,000 groups each (issue 14's closing note asks for it), beside one instance's own
// answer. Each group is pushed straight to its owner (16 at a time) on instances started with
// --push.disable-consistency-check: with the check, a 1.5.1 instance gathers every group it holds
// on each push, and filling 3 × 5,000 took 13 minutes here. The answer is checked complete.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { routingKey } from "../../src/pushgateway/grouping-key.js";
import type { App } from "../../src/runtime/single-process.js";
import { startDyshard } from "../support/dyshard.js";
import { waitFor } from "../support/ports.js";
import { inParallel, push } from "../support/push.js";
import { startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";

const GROUPS = 15_000;
const BODY = "# TYPE batch_rows gauge\nbatch_rows 42\n# TYPE batch_seconds gauge\nbatch_seconds 1.5\n";

describe("a merged /api/v1/metrics over 3 instances × 5,000 groups", () => {
  let pgs: Pushgateway[];
  let app: App;
  before(async () => {
    pgs = await startPushgateways(3, ["--push.disable-consistency-check"]);
    app = await startDyshard(
      pgs.map((p) => p.url),
      { rebalanceInterval: "0", rebalanceSettle: "1h", logLevel: "warn" },
    );
    const t0 = performance.now();
    // Where dyshard would have put each group, so that nothing is out of place.
    const jobs = Array.from({ length: GROUPS }, (_, i) => {
      const owner = app.membership.ring.owner(routingKey({ job: "scale", labels: { instance: `s${i}` } }));
      return { pg: pgs[owner!]!, path: `/metrics/job/scale/instance/s${i}` };
    });
    await inParallel(jobs, 16, async ({ pg, path }) => {
      const r = await push(pg.url, path, BODY);
      assert.equal(r.status, 202, r.text); // queued: the check is off
    });
    const stored = async () => (await Promise.all(pgs.map((p) => p.groups()))).map((g) => g.length);
    await waitFor("every group stored", async () => (await stored()).reduce((a, b) => a + b) === GROUPS, 60_000, 500);
    const ms = (performance.now() - t0).toFixed(0);
    process.stdout.write(`# setup: ${GROUPS} groups pushed to their owners (${(await stored()).join(" / ")}), 16 at a time, in ${ms} ms\n`);
  });
  after(async () => {
    await app?.stop();
    await stopAll(pgs ?? []);
  });

  it("answers every group, and prints how long it took (3 runs)", async () => {
    const merged: string[] = [];
    const direct: string[] = [];
    for (let run = 0; run < 3; run++) {
      const d0 = performance.now();
      await (await fetch(`${pgs[0]!.url}/api/v1/metrics`)).text();
      direct.push(`${(performance.now() - d0).toFixed(0)} ms`);
      const t0 = performance.now();
      const res = await fetch(`${app.url}/api/v1/metrics`);
      const text = await res.text();
      const ms = performance.now() - t0;
      const body = JSON.parse(text) as { data: unknown[]; errors: unknown[] };
      assert.equal(res.status, 200);
      assert.deepEqual(body.errors, []);
      assert.equal(body.data.length, GROUPS);
      merged.push(`${ms.toFixed(0)} ms (${(text.length / 1e6).toFixed(1)} MB)`);
    }
    process.stdout.write(
      `# merged GET /api/v1/metrics, 3 instances, ${GROUPS} groups of 2 families: ${merged.join(", ")}; instance 0 alone: ${direct.join(", ")}\n`,
    );
  });
});
