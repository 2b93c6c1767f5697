// errorText: every failure dyshard meets is said in words, with its code, never as a bare code.
import assert from "node:assert/strict";
import net from "node:net";
import { describe, it } from "node:test";
import { request } from "undici";
import { errorText } from "../../src/core/errors.js";

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
}

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

describe("errorText", () => {
  it("says what a timeout by AbortSignal.timeout was (its DOMException code is 23), with the limit", async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const err = await caught(request(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(100) }));
      assert.equal(errorText(err, 100), "timed out after 100ms");
      const headers = await caught(request(`http://127.0.0.1:${port}/`, { headersTimeout: 100 }));
      assert.equal(errorText(headers, 100), "timed out after 100ms (UND_ERR_HEADERS_TIMEOUT)");
    } finally {
      silent.close();
    }
  });

  it("says what a refused connection was, from undici and from fetch (which wraps the cause)", async () => {
    const port = await closedPort();
    assert.equal(errorText(await caught(request(`http://127.0.0.1:${port}/`))), "connection refused (ECONNREFUSED)");
    assert.equal(errorText(await caught(fetch(`http://127.0.0.1:${port}/`))), "connection refused (ECONNREFUSED)");
  });

  it("says what a reset was", async () => {
    const rude = net.createServer((s) => s.resetAndDestroy());
    await new Promise<void>((r) => rude.listen(0, "127.0.0.1", r));
    const { port } = rude.address() as net.AddressInfo;
    try {
      const text = errorText(await caught(request(`http://127.0.0.1:${port}/`)));
      assert.match(text, /^(connection reset by the peer \(ECONNRESET\)|connection closed by the peer \(UND_ERR_SOCKET\))$/);
    } finally {
      rude.close();
    }
  });

  it("never answers a bare code or number", () => {
    for (const code of [
      "DYSHARD_UPSTREAM_TIMEOUT",
      "ECONNREFUSED",
      "ECONNRESET",
      "EPIPE",
      "ETIMEDOUT",
      "EHOSTUNREACH",
      "ENOTFOUND",
      "EAI_AGAIN",
      "UND_ERR_SOCKET",
      "UND_ERR_HEADERS_TIMEOUT",
      "UND_ERR_BODY_TIMEOUT",
      "UND_ERR_CONNECT_TIMEOUT",
      "HPE_INVALID_RESPONSE",
    ]) {
      const text = errorText(Object.assign(new Error(code), { code }));
      assert.notEqual(text, code);
      assert.ok(text.includes(`(${code})`) && /[a-z]{3,} /.test(text), `${code}: ${text}`);
    }
    assert.equal(errorText(Object.assign(new Error("something odd"), { code: "EWHATEVER" })), "something odd (EWHATEVER)");
    assert.equal(errorText(new DOMException("The operation was aborted due to timeout", "TimeoutError")), "timed out");
  });
});
