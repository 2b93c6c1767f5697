// --max-connections: what "auto" sizes it to, how --workers share a given value, and the values
// the setting takes or refuses.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../src/config/load.js";
import { connectionLimit, openFileLimit, sizedFor } from "../../src/http/max-connections.js";

const upstream = ["http://127.0.0.1:9101"];

describe("--max-connections", () => {
  it("auto keeps a quarter of the open-file limit (at most 1,024) and gives clients half the rest, never under 64", () => {
    assert.equal(sizedFor(20_000), 9488);
    assert.equal(sizedFor(1_048_576), 523_776);
    assert.equal(sizedFor(1024), 384);
    assert.equal(sizedFor(100), 64);
  });

  it("reads this process's soft open-file limit from /proc/self/limits", () => {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    assert.equal(openFileLimit(), Number(/(\d+)/.exec(line ?? "")?.[1]));
  });

  it("shares a given value out among --workers (rounded up) and sizes auto per process", () => {
    assert.equal(connectionLimit(50, 1), 50);
    assert.equal(connectionLimit(20, 2), 10);
    assert.equal(connectionLimit(5, 2), 3);
    assert.equal(connectionLimit(0, 4, 20_000), 9488);
  });

  it("takes auto (the default) or a count of at least 1, from a flag, the environment or the file; else names the flag", () => {
    assert.equal(loadConfig({ flags: { upstream } }).limits.maxConnections, 0);
    assert.equal(loadConfig({ flags: { upstream, maxConnections: "auto" } }).limits.maxConnections, 0);
    assert.equal(loadConfig({ flags: { upstream, maxConnections: "500" } }).limits.maxConnections, 500);
    assert.equal(loadConfig({ env: { DYSHARD_MAX_CONNECTIONS: "2000" }, flags: { upstream } }).limits.maxConnections, 2000);
    for (const bad of ["0", "-1", "1.5", "lots", "1e3"])
      assert.throws(
        () => loadConfig({ flags: { upstream, maxConnections: bad } }),
        (err: Error) => err instanceof ConfigError && /--max-connections.*expected auto or a number/.test(err.message),
        bad,
      );
  });
});
