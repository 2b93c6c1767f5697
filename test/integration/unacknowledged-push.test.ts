// A push dyshard answered 504 never wins over a later acknowledged one. An instance that hangs
// (SIGSTOP) holds requests in its socket buffers; when it resumes it applies them, stamped with a
// push_time newer than the pushes that failed over and were answered 200. After the handover
// every group must hold its last acknowledged value, on one instance.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { routingKey } from "../../src/pushgateway/grouping-key.js";
import { loadHash64 } from "../../src/routing/hash.js";
import { Ring } from "../../src/routing/ring.js";
import { spawnDyshard, startDyshard } from "../support/dyshard.js";
import { waitFor } from "../support/ports.js";
import { push } from "../support/push.js";
import { startPushgateways, stopAll, type Pushgateway, type PushgatewayGroup } from "../support/pushgateway.js";
import { freeze, thaw } from "../support/freeze.js";

const JOB = "unacked";
const GROUPS = 24;
const path = (i: number) => `/metrics/job/${JOB}/instance/g${i}`;
const key = (i: number) => routingKey({ job: JOB, labels: { instance: `g${i}` } });

function valueOf(g: PushgatewayGroup): string | undefined {
  return (g.v as { metrics: { value: string }[] } | undefined)?.metrics[0]?.value;
}

/** dyshard as the test sees it: where pushes go, and whether it has a slot on its ring. */
interface Front {
  url: string;
  healthy(slot: number): Promise<boolean>;
  stop(): Promise<unknown>;
}

const FLAGS = {
  upstreamTimeout: "2s",
  healthInterval: "200ms",
  healthTimeout: "300ms",
  healthFall: "3",
  healthRise: "2",
  rebalanceInterval: "0",
  rebalanceSettle: "300ms",
};

async function inProcess(urls: string[]): Promise<Front> {
  const app = await startDyshard(urls, FLAGS);
  return { url: app.url, healthy: async (slot) => app.membership.members[slot]!.healthy, stop: () => app.stop() };
}

/** `--workers 2`: the ledger lives in the primary, the pushes pass through the workers. */
async function withWorkers(urls: string[]): Promise<Front> {
  const flags = Object.entries(FLAGS).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, v]);
  const d = await spawnDyshard(["--workers", "2", ...flags, ...urls.flatMap((u) => ["--upstream", u])]);
  await waitFor("workers serving", async () => (await fetch(`${d.url}/-/ready`)).ok);
  const ring = async () => (await (await fetch(`${d.url}/-/dyshard/ring`)).json()) as { slots: { healthy: boolean }[] };
  return { url: d.url, healthy: async (slot) => (await ring()).slots[slot]!.healthy, stop: () => d.stop() };
}

for (const [mode, start] of [
  ["in one process", inProcess],
  ["with --workers 2", withWorkers],
] as const) {
  describe(`unacknowledged pushes after an instance hangs (${mode})`, () => {
    let pgs: Pushgateway[];
    let app: Front;
    let stopped: number | undefined;
    let owners: Ring;
    before(async () => {
      pgs = await startPushgateways(3);
      app = await start(pgs.map((p) => p.url));
      owners = new Ring(["healthy", "healthy", "healthy"], await loadHash64()); // every instance up: at the start and the end
    });
    after(async () => {
      if (stopped) process.kill(stopped, "SIGCONT");
      await app?.stop();
      await stopAll(pgs ?? []);
    });

    it("ends every group with its last acknowledged value, on one instance, though the resumed owner applied 504'd pushes later", async () => {
      const acked = new Map<number, number>(); // group → last value answered 200
      const timedOut = new Map<number, number>(); // group → values answered 504
      let value = 0;
      let pushing = true;
      // Three pushers, each over its own eight groups, every value larger than the one before.
      const pusher = async (p: number) => {
        while (pushing) {
          for (let i = p; i < GROUPS; i += 3) {
            const v = ++value;
            const r = await push(app.url, path(i), `v ${v}\n`).catch((err: Error) => ({ status: 0, text: err.message }));
            if (r.status === 200) acked.set(i, Math.max(v, acked.get(i) ?? 0));
            else if (r.status === 504) timedOut.set(i, (timedOut.get(i) ?? 0) + 1);
            else if (pushing) assert.fail(`push of ${path(i)} answered ${r.status}: ${r.text}`);
            if (!pushing) return;
          }
        }
      };
      const step = (what: string) => process.stderr.write(`# ${new Date().toISOString()} ${what}\n`);
      const pushers = [0, 1, 2].map(pusher);
      try {
        await hangResumeAndCheck();
      } finally {
        pushing = false;
        await Promise.allSettled(pushers);
      }
      async function hangResumeAndCheck() {
        await waitFor("every group pushed once", async () => acked.size === GROUPS);

        const victim = 0;
        const owned = Array.from({ length: GROUPS }, (_, i) => i).filter((i) => owners.owner(key(i)) === victim);
        assert.ok(owned.length >= 3, `slot ${victim} owns ${owned.length} of ${GROUPS} groups`);
        stopped = pgs[victim]!.pid!;
        await freeze(stopped);
        step(`slot ${victim} stopped; it owns ${owned.length} groups`);
        // Past the upstream timeout and the health checks' verdict, and on: pushes fail over and are acknowledged.
        await waitFor("the hung owner off the ring", async () => !(await app.healthy(victim)), 10_000);
        const ackedAtStop = new Map(acked);
        await waitFor(
          "acknowledged pushes of the hung owner's groups elsewhere",
          async () => owned.filter((i) => (acked.get(i) ?? 0) > (ackedAtStop.get(i) ?? 0)).length === owned.length,
          10_000,
        );
        pushing = false;
        await Promise.all(pushers);
        step("pushers stopped");
        assert.ok(timedOut.size > 0, "some pushes were answered 504 while the owner hung");

        await thaw(stopped);
        stopped = undefined;
        await waitFor("the owner back on the ring", async () => app.healthy(victim), 10_000);
        step("owner back");
        // The resumed instance applied what was in its buffers: it holds 504'd values, newer by push time.
        const resumed = await pgs[victim]!.groups();
        const late = resumed.filter(
          (g) => g.labels.job === JOB && Number(valueOf(g)) < (acked.get(Number(g.labels.instance!.slice(1))) ?? 0),
        );
        process.stdout.write(
          `# ${timedOut.size} groups had 504s; the resumed owner held ${resumed.filter((g) => g.labels.job === JOB).length} groups, ${late.length} older than their last 200\n`,
        );

        const settled = async () => {
          const where = new Map<number, { on: number[]; value: string | undefined }>();
          (await Promise.all(pgs.map((p) => p.groups()))).forEach((groups, slot) => {
            for (const g of groups.filter((g) => g.labels.job === JOB)) {
              const i = Number(g.labels.instance!.slice(1));
              const e = where.get(i) ?? { on: [], value: undefined };
              e.on.push(slot);
              e.value = valueOf(g);
              where.set(i, e);
            }
          });
          return where;
        };
        await waitFor("every group on one instance", async () => [...(await settled()).values()].every((e) => e.on.length === 1), 10_000);
        const where = await settled();
        const wrong = [...acked]
          .filter(([i, v]) => where.get(i)?.value !== String(v))
          .map(([i, v]) => `g${i}: holds ${where.get(i)?.value}, last 200 was ${v}`);
        assert.deepEqual(wrong, [], "every group holds its last acknowledged value");
        for (const [i, e] of where) assert.equal(e.on[0], owners.owner(key(i)), `g${i} on its owner`);
      }
    });
  });
}
