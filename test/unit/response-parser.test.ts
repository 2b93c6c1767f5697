import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ResponseParseError, ResponseParser } from "../../src/proxy/engines/http1/response-parser.js";

interface Parsed {
  status?: number;
  headers?: string[];
  body: string;
  reusable?: boolean;
}

/** Feeds `wire` in reads of `step` bytes (every split point of a head or chunk line gets exercised). */
function parse(wire: string, step = wire.length, opts: { head?: boolean; close?: boolean } = {}): Parsed {
  const out: Parsed = { body: "" };
  const p = new ResponseParser(
    {
      onHead: (status, headers) => Object.assign(out, { status, headers }),
      onBody: (chunk) => (out.body += chunk.toString("latin1")),
      onEnd: (reusable) => {
        assert.equal(out.reusable, undefined, "onEnd called twice");
        out.reusable = reusable;
      },
    },
    opts.head,
  );
  const bytes = Buffer.from(wire, "latin1");
  for (let i = 0; i < bytes.length; i += step) p.execute(bytes.subarray(i, i + step));
  if (opts.close) p.finish();
  return out;
}

const everyStep = (wire: string, check: (p: Parsed) => void, opts?: { head?: boolean; close?: boolean }) => {
  for (let step = 1; step <= wire.length; step++) check(parse(wire, step, opts));
};

describe("HTTP/1.1 response parser (native engine)", () => {
  it("reads a Content-Length answer whatever the reads' boundaries", () => {
    const wire = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 12\r\n\r\nbad input!\r\n";
    everyStep(wire, (p) =>
      assert.deepEqual(p, {
        status: 400,
        headers: ["Content-Type", "text/plain; charset=utf-8", "Content-Length", "12"],
        body: "bad input!\r\n",
        reusable: true,
      }),
    );
  });

  it("decodes a chunked body with extensions and trailers, split anywhere", () => {
    const wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Trailer: t\r\n\r\n";
    everyStep(wire, (p) => {
      assert.equal(p.body, "hello, world!!!");
      assert.equal(p.reusable, true);
    });
  });

  it("answers without a body: 204, 304, and any answer to HEAD", () => {
    assert.deepEqual(parse("HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"), {
      status: 204,
      headers: ["Content-Length", "7"],
      body: "",
      reusable: true,
    });
    assert.equal(parse("HTTP/1.1 304 Not Modified\r\n\r\n").reusable, true);
    assert.deepEqual(parse("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", undefined, { head: true }), {
      status: 200,
      headers: ["Content-Length", "50"],
      body: "",
      reusable: true,
    });
  });

  it("skips 1xx heads and reports the final one", () => {
    everyStep("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n", (p) =>
      assert.deepEqual(p, { status: 202, headers: ["Content-Length", "0"], body: "", reusable: true }),
    );
  });

  it("reads a body without framing to the connection's end, and does not reuse that connection", () => {
    everyStep(
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it",
      (p) => assert.deepEqual(p, { status: 200, headers: ["Content-Type", "text/plain"], body: "all of it", reusable: false }),
      { close: true },
    );
  });

  it("decides reuse from the version and Connection", () => {
    assert.equal(parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").reusable, false);
    assert.equal(parse("HTTP/1.1 200 OK\r\nconnection: Keep-Alive, Close\r\nContent-Length: 0\r\n\r\n").reusable, false);
    assert.equal(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").reusable, false);
    assert.equal(parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").reusable, true);
    // Transfer-Encoding next to Content-Length: chunked wins and the connection is not trusted again.
    const both = parse("HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
    assert.deepEqual([both.body, both.reusable], ["ok", false]);
  });

  it("does not reuse a connection that sent bytes after the answer", () => {
    assert.equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA").reusable, false);
    assert.equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").reusable, true);
  });

  it("refuses malformed answers with a clear error", () => {
    const bad: [string, RegExp][] = [
      ["HTTQ/1.1 200 OK\r\n\r\n", /malformed status line/],
      ["HTTP/1.1 2000 OK\r\n\r\n", /malformed status line/],
      ["HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", /malformed header line/],
      ["HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n", /malformed header line/],
      ["HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", /conflicting Content-Length/],
      ["HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", /malformed Content-Length/],
      ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", /malformed chunk size/],
      ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX", /not followed by CRLF/],
    ];
    for (const [wire, message] of bad)
      assert.throws(
        () => parse(wire),
        (err: Error) => err instanceof ResponseParseError && message.test(err.message),
        wire,
      );
    assert.throws(() => parse("HTTP/1.1 200 OK\r\n" + "X: y\r\n".repeat(20_000)), /longer than/);
  });

  it("reports an answer cut short when the connection ends", () => {
    assert.throws(
      () => parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", undefined, { close: true }),
      /closed before the answer was complete/,
    );
    assert.throws(() => parse("HTTP/1.1 200", undefined, { close: true }), /closed before the answer was complete/);
  });
});
