// What only the native engine does, beyond the behaviour suite all engines share (engines.test.ts).
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import type { App } from "../../src/runtime/single-process.js";
import { startDyshard } from "../support/dyshard.js";
import { push } from "../support/push.js";
import { Recorder } from "../support/recorder.js";

describe("native engine", () => {
  let upstream: Recorder;
  let dyshard: App;
  /** Pushes answered, each on a connection that had carried nothing before. */
  let pushConnections = 0;
  before(async () => {
    upstream = await Recorder.start();
    // An upstream that closes a kept-alive connection just as the next push arrives on it, the race
    // every keep-alive client meets when an upstream times idle connections out: each connection
    // answers its first request and drops on its second without a word.
    const served = new WeakMap<Socket, number>();
    upstream.behave = (req, res) => {
      const socket = res.socket as Socket;
      const n = (served.get(socket) ?? 0) + 1;
      served.set(socket, n);
      if (n > 1) return void socket.destroy();
      if (req.url.startsWith("/metrics/")) pushConnections++;
      res.writeHead(200).end();
    };
    // Health checked rarely: this upstream would drop the checker's second request too.
    dyshard = await startDyshard([upstream.url], { engine: "native", healthInterval: "1h" });
  });
  after(async () => {
    await dyshard?.stop();
    await upstream?.stop();
  });

  it("sends a push again on a fresh connection when its kept-alive one was closed under it, and keeps the upstream healthy", async () => {
    for (let i = 0; i < 5; i++) {
      const r = await push(dyshard.url, `/metrics/job/keepalive/instance/i${i}`, "x 1\n");
      assert.equal(r.status, 200, `push ${i}: ${r.text}`);
    }
    // Every push after the first met a dead kept-alive connection and was answered on a new one.
    assert.equal(pushConnections, 5);
    const ring = (await (await fetch(`${dyshard.url}/-/dyshard/ring`)).json()) as { healthy_members: number };
    assert.equal(ring.healthy_members, 1);
  });
});
