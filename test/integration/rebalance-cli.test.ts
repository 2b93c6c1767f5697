// `dyshard rebalance --dry-run|--apply` against real Pushgateways.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { CLI } from "../support/dyshard.js";
import { push } from "../support/push.js";
import { startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";

/** Runs the CLI without blocking this process (the Pushgateways are children of it). */
function dyshard(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("exit", (status) => resolve({ status, stdout, stderr }));
  });
}

describe("dyshard rebalance", () => {
  let pgs: Pushgateway[];
  before(async () => {
    pgs = await startPushgateways(3);
  });
  after(() => stopAll(pgs ?? []));

  it("prints the plan with --dry-run, carries it out with --apply, and then finds nothing to do", async () => {
    const upstreams = pgs.flatMap((p) => ["--upstream", p.url]);
    // Every group pushed straight to instance 0: the ones it does not own are misplaced.
    for (let i = 0; i < 30; i++) assert.equal((await push(pgs[0]!.url, `/metrics/job/cli/instance/i${i}`, `v ${i}\n`)).status, 200);
    const routes = (
      await dyshard(["route", ...upstreams, ...Array.from({ length: 30 }, (_, i) => `/metrics/job/cli/instance/i${i}`)])
    ).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { labels: { instance: string }; upstream: string });
    const misplaced = routes.filter((r) => r.upstream !== pgs[0]!.url);

    const dry = await dyshard(["rebalance", "--dry-run", ...upstreams]);
    assert.equal(dry.status, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout) as {
      dry_run: boolean;
      misplaced: number;
      steps: { action: string; group: { instance: string }; owner: string }[];
    };
    assert.equal(plan.dry_run, true);
    assert.equal(plan.misplaced, misplaced.length);
    for (const s of plan.steps) assert.equal(s.owner, routes.find((r) => r.labels.instance === s.group.instance)!.upstream);
    assert.equal((await pgs[0]!.groups()).length, 30, "a dry run changes nothing");

    const applied = await dyshard(["rebalance", "--apply", ...upstreams]);
    assert.equal(applied.status, 0, applied.stderr);
    const result = JSON.parse(applied.stdout) as { copied: number; deleted: number; failed: number };
    assert.deepEqual([result.copied, result.deleted, result.failed], [misplaced.length, misplaced.length, 0]);
    for (const [i, p] of pgs.entries()) {
      for (const g of await p.groups()) assert.equal(routes.find((r) => r.labels.instance === g.labels.instance)!.upstream, pgs[i]!.url);
    }
    const again = JSON.parse((await dyshard(["rebalance", "--dry-run", ...upstreams])).stdout) as { misplaced: number; groups: number };
    assert.deepEqual([again.misplaced, again.groups], [0, 30]);
  });

  it("wants exactly one of --dry-run and --apply", async () => {
    const r = await dyshard(["rebalance", "--upstream", pgs[0]!.url]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /exactly one of --dry-run and --apply/);
  });
});
