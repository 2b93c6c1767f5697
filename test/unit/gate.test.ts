// GroupGate: pushes pass at once while nothing moves; a move waits for pushes in flight and holds
// the pushes of its groups until it reopens.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GroupGate } from "../../src/handover/gate.js";

describe("GroupGate", () => {
  const settled = () => new Promise((r) => setTimeout(r, 10));

  it("lets pushes through at once when nothing moves, holds them during a move, and waits for pushes in flight", async () => {
    const gate = new GroupGate();
    const inflight = gate.enter("k"); // a push in flight
    assert.ok(!(inflight instanceof Promise));
    let closed = false;
    const closing = gate.close(["k"]).then((reopen) => ((closed = true), reopen));
    await settled();
    assert.equal(closed, false, "the move waits for the push in flight");
    gate.leave(inflight);
    const reopen = await closing;
    const order: string[] = [];
    const entered = gate.enter("k");
    assert.ok(entered instanceof Promise, "a push of a group being moved is held");
    const held = entered.then((batch) => {
      order.push("push");
      gate.leave(batch);
    });
    const other = gate.enter("other");
    assert.ok(!(other instanceof Promise), "other groups are not held");
    gate.leave(other);
    await settled();
    order.push("move done");
    reopen();
    await held;
    assert.deepEqual(order, ["move done", "push"]);
  });

  it("makes a second move wait for pushes that entered before the first one", async () => {
    const gate = new GroupGate();
    const early = gate.enter("a");
    assert.ok(!(early instanceof Promise));
    let first = false;
    let second = false;
    void gate.close(["x"]).then(() => (first = true));
    const late = gate.enter("b"); // entered between the two moves
    assert.ok(!(late instanceof Promise));
    void gate.close(["y"]).then(() => (second = true));
    gate.leave(late);
    await settled();
    assert.deepEqual([first, second], [false, false], "both moves still wait for the early push");
    gate.leave(early);
    await settled();
    assert.deepEqual([first, second], [true, true]);
  });
});
