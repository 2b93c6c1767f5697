// What only the native engine does, beyond the behaviour suite all engines share (engines.test.ts).
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import type { App } from "../../src/server/app.js";
import { startDyshard } from "../support/dyshard.js";
import { push } from "../support/push.js";

/**
 * An upstream that closes a kept-alive connection just as the next push arrives on it, the race
 * every keep-alive client meets when an upstream times idle connections out. Each connection
 * answers its first request and drops on its second without a word.
 */
async function closingUpstream(): Promise<{ url: string; pushConnections: () => number; stop: () => Promise<void> }> {
  let pushConnections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    let buf = "";
    let served = 0;
    socket.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        const push = buf.startsWith("PUT ");
        buf = buf.slice(end + 4 + length);
        if (++served > 1) return void socket.destroy();
        if (push) pushConnections++;
        socket.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    pushConnections: () => pushConnections,
    stop: async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => server.close(r));
    },
  };
}

describe("native engine", () => {
  let upstream: Awaited<ReturnType<typeof closingUpstream>>;
  let dyshard: App;
  before(async () => {
    upstream = await closingUpstream();
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
    assert.equal(upstream.pushConnections(), 5);
    const ring = (await (await fetch(`${dyshard.url}/-/dyshard/ring`)).json()) as { healthy_members: number };
    assert.equal(ring.healthy_members, 1);
  });
});
