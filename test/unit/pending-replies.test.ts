// Requests across --workers end with their reply, their timeout, or the other side's death.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PendingReplies, ReplyTimeoutError } from "../../src/runtime/workers/pending-replies.js";
import { UnavailableError } from "../../src/core/unavailable-error.js";
import { isProtocolMessage } from "../../src/runtime/workers/protocol.js";

test("a reply settles the request sent under its id, and only that one", async () => {
  const replies = new PendingReplies();
  const sent: number[] = [];
  const first = replies.request<string>(5000, "first", (id) => sent.push(id));
  const second = replies.request<string>(5000, "second", (id) => sent.push(id));
  assert.equal(sent.length, 2);
  assert.notEqual(sent[0], sent[1]);
  replies.resolve(sent[1]!, "two");
  assert.equal(await second, "two");
  assert.equal(replies.size, 1);
  replies.reject(sent[0]!, new Error("failed there"));
  await assert.rejects(first, /failed there/);
  assert.equal(replies.size, 0);
  replies.resolve(sent[0]!, "late"); // a late or repeated reply is ignored
});

test("no reply in time rejects with a ReplyTimeoutError (a 503: unavailable) that names the request", async () => {
  const replies = new PendingReplies();
  const started = Date.now();
  const err = await replies.request(50, "the primary's metrics", () => {}).catch((e: unknown) => e);
  assert.ok(err instanceof ReplyTimeoutError);
  assert.ok(err instanceof UnavailableError);
  assert.equal(err.code, "DYSHARD_IPC_TIMEOUT");
  assert.match(err.message, /the primary's metrics: no reply within 50 ms/);
  assert.ok(Date.now() - started >= 45);
  assert.equal(replies.size, 0);
});

test("closeAll ends every wait at once (the other process died)", async () => {
  const replies = new PendingReplies();
  const waits = [1, 2, 3].map(() => replies.request(60_000, "gate-close", () => {}));
  replies.closeAll(new Error("worker gone"));
  const results = await Promise.allSettled(waits);
  assert.deepEqual(
    results.map((r) => r.status),
    ["rejected", "rejected", "rejected"],
  );
  assert.equal(replies.size, 0);
});

test("only dyshard's namespaced messages are taken: prom-client's and others on the channel are not", () => {
  assert.equal(isProtocolMessage({ type: "dyshard:hello" }), true);
  assert.equal(isProtocolMessage({ type: "prom-client:getMetricsReq", requestId: 1 }), false);
  assert.equal(isProtocolMessage({ t: "hello" }), false);
  assert.equal(isProtocolMessage(null), false);
  assert.equal(isProtocolMessage("dyshard:hello"), false);
});
