// The --upstream-auth-file format (src/upstream/credentials.ts) and how UpstreamAccess applies it:
// one credential for all, others by upstream URL, the client's Authorization replaced, and no
// error message that quotes a value of the file.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCredentials } from "../../src/upstream/credentials.js";
import { UpstreamAccess } from "../../src/upstream/upstream-access.js";

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const access = (yaml: string) => new UpstreamAccess({ rejectUnauthorized: true }, parseCredentials(yaml, "f.yml"));

describe("--upstream-auth-file", () => {
  it("one credential for every upstream, others by URL (spelled as --upstream is: no trailing slash)", () => {
    const a = access(
      [
        "basic_auth: { username: dyshard, password: 'p:w é' }",
        "upstreams:",
        "  https://pg-3:9091/: { bearer_token: tok-3 }",
        "  http://pg-4:9091/prefix: { basic_auth: { username: four, password: '' } }",
      ].join("\n"),
    );
    assert.equal(a.sendsCredentials, true);
    assert.equal(a.authorization("https://pg-1:9091"), basic("dyshard", "p:w é"));
    assert.equal(a.authorization("https://pg-3:9091"), "Bearer tok-3");
    assert.equal(a.authorization("http://pg-4:9091/prefix"), basic("four", ""));
    assert.equal(a.authorization("http://pg-4:9091"), basic("dyshard", "p:w é"), "another path is another upstream");
  });

  it("only by URL: upstreams it does not name get no credential", () => {
    const a = access("upstreams:\n  https://pg-3:9091: { bearer_token: t }\n");
    assert.equal(a.authorization("https://pg-3:9091"), "Bearer t");
    assert.equal(a.authorization("https://pg-1:9091"), undefined);
    assert.deepEqual(a.headers("https://pg-1:9091", ["Authorization", "Basic eA==", "x", "1"]), ["x", "1"]);
  });

  it("replaces every Authorization header the client sent, whatever its case, and keeps the rest in order", () => {
    const a = access("bearer_token: abc\n");
    const raw = ["Content-Type", "text/plain", "AUTHORIZATION", "Basic Y2xpZW50OnB3", "authorization", "Bearer client", "X-Y", "z"];
    assert.deepEqual(a.headers("http://pg:9091", raw), ["Content-Type", "text/plain", "X-Y", "z", "authorization", "Bearer abc"]);
    assert.deepEqual(a.headerObject("http://pg:9091", { "content-type": "t" }), { "content-type": "t", authorization: "Bearer abc" });
    assert.equal(a.withoutCredentials().authorization("http://pg:9091"), undefined);
    assert.equal(UpstreamAccess.DEFAULT.sendsCredentials, false);
  });

  it("refuses a bad file with the key and the file named, never a value of it", () => {
    const secret = "s3cr3t-value";
    const cases: [string, RegExp][] = [
      [
        `basic_auth: { username: u, password: ${secret} }\nbearer_token: ${secret}\n`,
        /f\.yml: \(file\): give basic_auth or bearer_token, not both/,
      ],
      [`basic_auth: { username: "a:b", password: ${secret} }\n`, /basic_auth\.username: basic_auth\.username may not hold ':'/],
      [`basic_auth: { username: u, pasword: ${secret} }\n`, /basic_auth\.password: Required|Unrecognized key/],
      [`bearer_token: "two ${secret}"\n`, /bearer_token: bearer_token must be visible ASCII/],
      [`upstreams:\n  not-a-url: { bearer_token: ${secret} }\n`, /upstreams: not a URL: "not-a-url"/],
      [`upstreams:\n  http://pg:9091: {}\n`, /upstreams\.http:\/\/pg:9091: give basic_auth or bearer_token/],
      [`basic_auth: { username: u, password: ${secret}\n`, /f\.yml is not valid YAML \(line \d+, column \d+\)/],
      ["", /f\.yml holds no credential/],
    ];
    for (const [yaml, message] of cases) {
      assert.throws(
        () => parseCredentials(yaml, "f.yml"),
        (err: Error & { code?: string }) => {
          assert.match(err.message, message);
          assert.ok(!err.message.includes(secret), err.message);
          assert.equal(err.code, "DYSHARD_BAD_FILE");
          return true;
        },
      );
    }
  });
});
