import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../src/config/load.js";
import { parseDuration, parseSize } from "../../src/config/units.js";

const dir = mkdtempSync(join(tmpdir(), "dyshard-config-"));
function file(text: string): string {
  const f = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(f, text);
  return f;
}

describe("units", () => {
  it("parses durations and sizes as users write them", () => {
    assert.equal(parseDuration("500ms"), 500);
    assert.equal(parseDuration("2s"), 2000);
    assert.equal(parseDuration("1m30s"), 90_000);
    assert.equal(parseDuration("250"), 250);
    assert.equal(parseDuration("2 s"), undefined);
    assert.equal(parseDuration("abc"), undefined);
    assert.equal(parseSize("1MiB"), 1024 * 1024);
    assert.equal(parseSize("512KiB"), 512 * 1024);
    assert.equal(parseSize("1048576"), 1048576);
    assert.equal(parseSize("lots"), undefined);
  });
});

describe("loadConfig", () => {
  it("has defaults that work out of the box", () => {
    const c = loadConfig({ flags: { upstream: ["http://127.0.0.1:9101"] } });
    assert.deepEqual(c.listen, { host: "0.0.0.0", port: 9091 });
    assert.equal(c.mode, "proxy");
    assert.equal(c.engine, "native");
    assert.equal(c.shardBy, "group");
    assert.equal(c.limits.retryBodyBytes, 1024 * 1024);
    assert.deepEqual(c.upstreams, [{ url: "http://127.0.0.1:9101", slot: 0, retired: false }]);
  });

  it("takes flags over environment over file", () => {
    const f = file(
      "mode: redirect\nengine: http-proxy\nhealth:\n  interval: 5s\n  timeout: 3s\nupstreams:\n  - http://a:1\n  - http://b:2\n",
    );
    const fromFile = loadConfig({ file: f });
    assert.equal(fromFile.mode, "redirect");
    assert.equal(fromFile.health.intervalMs, 5000);
    const withEnv = loadConfig({
      file: f,
      env: { DYSHARD_HEALTH_INTERVAL: "700ms", DYSHARD_MODE: "proxy", DYSHARD_UPSTREAMS: "http://c:3, http://d:4" },
    });
    assert.equal(withEnv.health.intervalMs, 700);
    assert.equal(withEnv.health.timeoutMs, 3000);
    assert.equal(withEnv.mode, "proxy");
    assert.deepEqual(
      withEnv.upstreams.map((u) => u.url),
      ["http://c:3", "http://d:4"],
    );
    const withFlags = loadConfig({
      file: f,
      env: { DYSHARD_HEALTH_INTERVAL: "700ms" },
      flags: { healthInterval: "300ms", upstream: ["http://e:5"] },
    });
    assert.equal(withFlags.health.intervalMs, 300);
    assert.equal(withFlags.engine, "http-proxy");
    assert.deepEqual(
      withFlags.upstreams.map((u) => u.url),
      ["http://e:5"],
    );
  });

  it("reads the spool and body-timeout settings from file, environment and flags; defaults: the system's temporary directory, 1GiB, 60s", () => {
    const defaults = loadConfig({ flags: { upstream: ["http://a:1"] } });
    assert.deepEqual(
      [defaults.limits.spoolDir, defaults.limits.maxSpoolBytes, defaults.limits.clientBodyTimeoutMs],
      [tmpdir(), 1024 ** 3, 60_000],
    );
    const f = file("upstreams: [http://a:1]\nlimits:\n  spool_dir: /var/spool/dyshard\n  max_spool: 2GiB\n  client_body_timeout: 30s\n");
    const fromFile = loadConfig({ file: f });
    assert.deepEqual(
      [fromFile.limits.spoolDir, fromFile.limits.maxSpoolBytes, fromFile.limits.clientBodyTimeoutMs],
      ["/var/spool/dyshard", 2 * 1024 ** 3, 30_000],
    );
    const fromEnv = loadConfig({
      file: f,
      env: { DYSHARD_SPOOL_DIR: "/tmp/s", DYSHARD_MAX_SPOOL: "0", DYSHARD_CLIENT_BODY_TIMEOUT: "5s" },
    });
    assert.deepEqual([fromEnv.limits.spoolDir, fromEnv.limits.maxSpoolBytes, fromEnv.limits.clientBodyTimeoutMs], ["/tmp/s", 0, 5000]);
    const fromFlags = loadConfig({ file: f, flags: { spoolDir: "/srv/s", maxSpool: "10MiB", clientBodyTimeout: "1s" } });
    assert.deepEqual(
      [fromFlags.limits.spoolDir, fromFlags.limits.maxSpoolBytes, fromFlags.limits.clientBodyTimeoutMs],
      ["/srv/s", 10 * 1024 ** 2, 1000],
    );
  });

  it("keeps upstream path prefixes and explicit slots; a retired entry stays a tombstone", () => {
    const f = file("upstreams:\n  - url: http://a:1/pg/\n  - url: http://b:2\n    retired: true\n  - url: http://c:3\n    slot: 5\n");
    const c = loadConfig({ file: f });
    assert.deepEqual(c.upstreams, [
      { url: "http://a:1/pg", slot: 0, retired: false },
      { url: "http://b:2", slot: 1, retired: true },
      { url: "http://c:3", slot: 5, retired: false },
    ]);
  });

  for (const [what, opts, key] of [
    ["a bad duration", { flags: { healthTimeout: "soon" } }, "health.timeout"],
    ["a bad mode", { env: { DYSHARD_MODE: "teleport" } }, "mode"],
    ["a bad listen address", { flags: { listen: "nowhere" } }, "listen"],
    ["a bad upstream URL", { flags: { upstream: ["not a url"] } }, "upstreams.0"],
    ["a bad size", { env: { DYSHARD_MAX_BODY: "huge" } }, "limits.max_body"],
    ["an unknown key in the file", { file: file("lissen: 1\n") }, "(config)"],
  ] as const) {
    it(`rejects ${what}, naming the key`, () => {
      assert.throws(
        () => loadConfig(opts),
        (err: Error) => err instanceof ConfigError && err.message.includes(key),
      );
    });
  }

  it("rejects two upstreams on one slot", () => {
    assert.throws(() => loadConfig({ file: file("upstreams:\n  - url: http://a:1\n    slot: 1\n  - url: http://b:2\n") }), /slot 1/);
  });
});

it("reads --replicas (default 1)", () => {
  assert.equal(loadConfig({ flags: { upstream: ["http://pg:9091"], replicas: "2" } }).replicas, 2);
  assert.equal(loadConfig({ flags: { upstream: ["http://pg:9091"] } }).replicas, 1);
  assert.throws(
    () => loadConfig({ flags: { upstream: ["http://pg:9091"], replicas: "0" } }),
    /invalid replicas \(--replicas, DYSHARD_REPLICAS\)/,
  );
});
