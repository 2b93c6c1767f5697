// AnswerCapture (--replicas): the primary's answer kept until the standby writes are done, then
// replayed to the client. Found by the chaos soak: when every instance hung, the primary's 504
// and the standby's timeout ended in the same tick, the answer was replayed before the capture's
// 'finish' event (a tick after end()), and the client saw its connection cut instead of the 504.
import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { AnswerCapture } from "../../src/proxy/answer-capture.js";
import { answer } from "../../src/proxy/forwarder.js";

/** A real server whose handler is `serve`; what a client gets from one request. */
async function oneRequest(serve: (res: ServerResponse) => void): Promise<{ status: number; text: string } | { error: string }> {
  const server = createServer((_req, res) => serve(res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    return { status: res.status, text: await res.text() };
  } catch (err) {
    return { error: (err as Error).message };
  } finally {
    server.close();
  }
}

describe("AnswerCapture", () => {
  it("replays an answer dyshard wrote itself in the same tick (a 504 when the standby write ended with it)", async () => {
    const got = await oneRequest((res) => {
      const capture = new AnswerCapture(res);
      answer(capture as unknown as ServerResponse, 504, "upstream u did not answer within 1000ms");
      capture.replayInto(res);
    });
    assert.deepEqual(got, { status: 504, text: "upstream u did not answer within 1000ms\n" });
  });

  it("replays an upstream's answer written in several parts, at once or after it finished", async () => {
    for (const later of [false, true]) {
      const got = await oneRequest((res) => {
        const capture = new AnswerCapture(res);
        capture.writeHead(200, ["content-type", "text/plain"]);
        capture.write("o");
        capture.end("k");
        if (later) capture.once("close", () => capture.replayInto(res));
        else capture.replayInto(res);
      });
      assert.deepEqual(got, { status: 200, text: "ok" }, later ? "after 'finish'" : "at once");
    }
  });

  it("cuts the client off when the upstream's answer was cut off (never ended)", async () => {
    const got = await oneRequest((res) => {
      const capture = new AnswerCapture(res);
      capture.writeHead(200, []);
      capture.write("partial");
      capture.destroy();
      capture.replayInto(res);
    });
    assert.ok("error" in got, `the client got ${JSON.stringify(got)}`);
  });
});
