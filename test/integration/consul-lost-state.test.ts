// A Consul that comes back without its state (a dev agent restarted, a wiped data directory)
// answers with no Pushgateways. With --consul-register dyshard registers them again as soon as an
// answer lacks one, instead of at its 30 s re-check: pushes fail for a moment, not half a minute.
// Found while building the chaos soak (test/support/soak/).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ConsulEmulator } from "../support/consul-emulator.js";
import { spawnDyshard, type DyshardProcess } from "../support/dyshard.js";
import { waitFor } from "../support/ports.js";
import { push } from "../support/push.js";
import { startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";

/** How long pushes may fail after the empty Consul answers: registration, then the first checks. */
const BOUND_MS = 5000;

describe("Consul back without its state (--consul-register)", () => {
  let pgs: Pushgateway[];
  let consul: ConsulEmulator;
  let dyshard: DyshardProcess;
  before(async () => {
    [pgs, consul] = await Promise.all([startPushgateways(3), ConsulEmulator.start({ minCheckIntervalMs: 100 })]);
    const args = ["--discovery", "consul", "--consul-address", consul.url, "--consul-wait", "2s", "--consul-register"];
    dyshard = await spawnDyshard([...args, "--consul-check-interval", "200ms", ...pgs.flatMap((p) => ["--upstream", p.url])]);
    await waitFor("every push accepted", async () => (await push(dyshard.url, "/metrics/job/lost/instance/a", "v 1\n")).status === 200);
  });
  after(async () => {
    await dyshard?.stop("SIGKILL");
    await consul?.stop();
    await stopAll(pgs ?? []);
  });

  it(`registers the Pushgateways again at once: pushes succeed again within ${BOUND_MS} ms`, async () => {
    const port = consul.port;
    await consul.stop();
    consul = await ConsulEmulator.start({ port, minCheckIntervalMs: 100 });
    const t0 = performance.now();
    let failed = 0;
    await waitFor(
      "pushes accepted again",
      async () => {
        const ok = (await push(dyshard.url, "/metrics/job/lost/instance/a", "v 2\n")).status === 200;
        if (!ok) failed++;
        return ok && consul.services().filter((s) => s.Service === "pushgateway").length === 3;
      },
      BOUND_MS,
      20,
    );
    process.stdout.write(
      `# Consul back empty: Pushgateways registered again, pushes succeeding ${(performance.now() - t0).toFixed(0)} ms later (${failed} failed pushes meanwhile; bound ${BOUND_MS} ms)\n`,
    );
    assert.deepEqual(
      consul
        .services()
        .filter((s) => s.Service === "pushgateway")
        .map((s) => s.ID),
      ["pushgateway-slot-0", "pushgateway-slot-1", "pushgateway-slot-2"],
    );
  });
});
