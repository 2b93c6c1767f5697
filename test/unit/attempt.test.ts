// The forwarder's reading of one attempt: every branch of retry / 408 / 413 / 499 / 502 / 504.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classifyAttempt, type AttemptContext } from "../../src/proxy/attempt.js";
import { BodyTimeoutError, BodyTooLargeError } from "../../src/proxy/body.js";
import { Codes } from "../../src/core/errors.js";

const ctx = (over: Partial<AttemptContext> = {}): AttemptContext => ({ clientGone: false, streamed: false, ownersLeft: 2, ...over });
const failed = (code: string) => ({ relayed: false as const, error: Object.assign(new Error(code), { code }) });

describe("classifyAttempt", () => {
  it("relays an answer, acknowledged only when it is a 2xx", () => {
    assert.deepEqual(classifyAttempt({ relayed: true, status: 200 }, ctx()), { kind: "relayed", status: 200, acknowledged: true });
    assert.deepEqual(classifyAttempt({ relayed: true, status: 202 }, ctx()), { kind: "relayed", status: 202, acknowledged: true });
    assert.deepEqual(classifyAttempt({ relayed: true, status: 400 }, ctx()), { kind: "relayed", status: 400, acknowledged: false });
  });

  it("refuses a body over the limit (413) or stalled (408), even when the client is gone", () => {
    assert.equal(classifyAttempt({ relayed: false, error: new BodyTooLargeError(10) }, ctx({ clientGone: true })).kind, "refuse-body");
    const stalled = classifyAttempt({ relayed: false, error: new BodyTimeoutError(1000) }, ctx());
    assert.equal(stalled.kind === "refuse-body" && stalled.status, 408);
  });

  it("counts a client gone away as 499, and the push as possibly applied unless the connection was refused", () => {
    assert.deepEqual(classifyAttempt(failed("ECONNRESET"), ctx({ clientGone: true })), { kind: "client-gone", unacknowledged: true });
    assert.deepEqual(classifyAttempt(failed("ECONNREFUSED"), ctx({ clientGone: true })), { kind: "client-gone", unacknowledged: false });
  });

  it("answers 504 on dyshard's timeout code (and undici's), and the push may still be applied", () => {
    assert.deepEqual(classifyAttempt(failed(Codes.UPSTREAM_TIMEOUT), ctx()), { kind: "timeout", unacknowledged: true });
    assert.equal(classifyAttempt(failed("UND_ERR_HEADERS_TIMEOUT"), ctx()).kind, "timeout", "the undici engine's own");
    assert.equal(classifyAttempt(failed("UND_ERR_BODY_TIMEOUT"), ctx()).kind, "timeout");
  });

  it("answers 502 for other failures, keeping the owner on the ring", () => {
    assert.deepEqual(classifyAttempt(failed("HPE_INVALID_RESPONSE"), ctx()), { kind: "failed", unacknowledged: true });
  });

  it("takes an owner that is not there off the ring, and retries unless the body streamed or no owner is left", () => {
    assert.deepEqual(classifyAttempt(failed("ECONNREFUSED"), ctx()), { kind: "owner-down", retry: true, unacknowledged: false });
    assert.deepEqual(classifyAttempt(failed("ECONNRESET"), ctx({ streamed: true })), {
      kind: "owner-down",
      retry: false,
      why: "streamed",
      unacknowledged: true,
    });
    assert.deepEqual(classifyAttempt(failed("EPIPE"), ctx({ ownersLeft: 0 })), {
      kind: "owner-down",
      retry: false,
      why: "no owner left",
      unacknowledged: true,
    });
    const wrapped = { relayed: false as const, error: Object.assign(new Error("fetch failed"), { cause: { code: "ECONNREFUSED" } }) };
    assert.equal(classifyAttempt(wrapped, ctx()).kind, "owner-down");
  });
});
