// dyshard while it is still starting (waiting for Consul's first answer, up to 5 s): a rebalance
// is answered 503, and SIGTERM ends the process within --shutdown-timeout + 1 s even though the
// start-up it interrupts still hangs.
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { spawnDyshard, timeSigterm } from "../support/dyshard.js";

describe("while starting", () => {
  // A Consul address that accepts connections and never answers.
  const held = new Set<Socket>();
  const silent = createServer((s) => {
    held.add(s);
    s.on("close", () => held.delete(s));
  });
  let consul = "";
  before(async () => {
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    consul = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
  });
  after(async () => {
    held.forEach((s) => s.destroy());
    await new Promise((r) => silent.close(r));
  });

  it("POST /-/dyshard/rebalance answers 503 saying dyshard is still starting; SIGTERM with --shutdown-timeout 1s exits within 2.5 s", async () => {
    const d = await spawnDyshard(["--discovery", "consul", "--consul-address", consul, "--shutdown-timeout", "1s"]);
    try {
      const res = await fetch(`${d.url}/-/dyshard/rebalance`, { method: "POST", signal: AbortSignal.timeout(3000) });
      const text = await res.text();
      assert.equal(res.status, 503, text);
      assert.match(text, /still starting/);

      const { code, ms } = await timeSigterm(d, "during start-up");
      assert.notEqual(code, "still running");
      assert.ok(ms < 2500, `exited in ${ms.toFixed(0)} ms`);
      assert.match(d.output(), /took longer than the shutdown timeout/);
    } finally {
      await d.stop("SIGKILL");
    }
  });
});
