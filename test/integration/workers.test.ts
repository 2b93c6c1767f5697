// `dyshard serve --workers 2`: every worker routes on the primary's ring and health view.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { requireBinary } from "../support/binaries.js";
import { spawnReadyWorkers, type DyshardProcess } from "../support/dyshard.js";
import { waitFor } from "../support/ports.js";
import { inParallel, placement, push } from "../support/push.js";
import { startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";

describe("--workers 2", () => {
  let pgs: Pushgateway[];
  let d: DyshardProcess;
  before(async () => {
    pgs = await startPushgateways(3);
    d = await spawnReadyWorkers(
      pgs.map((p) => p.url),
      2,
    );
  });
  after(async () => {
    await d?.stop("SIGKILL");
    await stopAll(pgs ?? []);
  });

  const ids = Array.from({ length: 300 }, (_, i) => i);
  const path = (i: number) => `/metrics/job/workers/instance/w${i}`;

  it("routes each group to one instance whichever worker takes the push, and sums the workers' metrics", async () => {
    for (let round = 0; round < 2; round++) {
      const statuses = await inParallel(ids, 20, (i) => push(d.url, path(i), `v ${round}\n`).then((r) => r.status));
      assert.deepEqual(new Set(statuses), new Set([200]));
    }
    const where = await placement(pgs);
    assert.equal(where.size, 300);
    assert.ok([...where.values()].every((on) => on.length === 1));
    const text = await (await fetch(`${d.url}/metrics`)).text();
    execFileSync(requireBinary("promtool"), ["check", "metrics"], { input: text });
    const total = [...text.matchAll(/^dyshard_requests_total\{method="PUT",code="200",[^}]*\} (\d+)$/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    assert.equal(total, 600, "every push counted once across workers");
    assert.match(text, /^dyshard_ring_healthy_members 3$/m);
  });

  it("loses no push when an instance dies, and every worker then shows the same ring", async () => {
    await pgs[2]!.kill();
    const statuses = await inParallel(ids, 20, (i) => push(d.url, path(i), "v 9\n").then((r) => r.status));
    assert.deepEqual(new Set(statuses), new Set([200]));
    await waitFor("the primary's verdict reached every worker", async () => {
      const views = await Promise.all(
        Array.from({ length: 12 }, async () =>
          JSON.stringify(
            (
              (await (await fetch(`${d.url}/-/dyshard/ring`, { headers: { connection: "close" } })).json()) as {
                slots: { state: string }[];
              }
            ).slots.map((s) => s.state),
          ),
        ),
      );
      return views.every((v) => v === JSON.stringify(["healthy", "healthy", "unhealthy"]));
    });
  });

  it("runs the handover from the primary when asked through any worker, and stops cleanly on SIGTERM", async () => {
    await pgs[2]!.restart();
    await waitFor("slot 2 back", async () => /^dyshard_ring_healthy_members 3$/m.test(await (await fetch(`${d.url}/metrics`)).text()));
    await inParallel(ids, 20, (i) => push(d.url, path(i), "v 10\n"));
    const res = await fetch(`${d.url}/-/dyshard/rebalance`, { method: "POST" });
    assert.equal(res.status, 200);
    const where = await placement(pgs);
    assert.ok(
      [...where.values()].every((on) => on.length === 1),
      "one copy of every group after the handover",
    );
    assert.equal(await d.stop("SIGTERM"), 0);
  });
});
