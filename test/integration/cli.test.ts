// The `dyshard` command as users run it: route, config errors, and a graceful SIGTERM.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { CLI, spawnDyshard } from "../support/dyshard.js";
import { push } from "../support/push.js";
import { Recorder } from "../support/recorder.js";
import { waitFor } from "../support/ports.js";

const UPSTREAMS = ["--upstream", "http://pg-a:9091", "--upstream", "http://pg-b:9091", "--upstream", "http://pg-c:9091/prefix"];
const dyshard = (args: string[], input?: string, env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [CLI, ...args], { input, encoding: "utf8", env: { ...process.env, ...env }, timeout: 20_000 });

describe("dyshard route", () => {
  it("prints one JSON object per path; every spelling of a group gets the same key and upstream", () => {
    const paths = [
      "/metrics/job/j/a/1/b/2",
      "/metrics/job/j/b/2/a/1",
      "/metrics/job@base64/ag/a@base64/MQ==/b/2",
      "/metrics/job/j/b/2/a/1/x/",
    ];
    const r = dyshard(["route", ...UPSTREAMS, ...paths]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 4);
    assert.deepEqual(Object.keys(lines[0]!), ["path", "job", "labels", "key", "slot", "upstream"]);
    assert.deepEqual(
      lines.map((l) => l.path),
      paths,
    );
    assert.equal(new Set(lines.map((l) => l.key)).size, 1);
    assert.equal(new Set(lines.map((l) => l.upstream)).size, 1);
    assert.deepEqual(lines[3]!.labels, { b: "2", a: "1", x: "" });
    assert.ok(["http://pg-a:9091", "http://pg-b:9091", "http://pg-c:9091/prefix"].includes(lines[0]!.upstream as string));
  });

  it("reads paths from standard input, reports rejected paths with the Pushgateway's status and message, and exits non-zero", () => {
    const r = dyshard(["route", ...UPSTREAMS], "/metrics/job/ok1\n/metrics/job/j/a/1/b\n\n/metrics/job/j/__x/1\n/not/a/push\n");
    assert.equal(r.status, 1);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 4);
    assert.equal(lines[0]!.job, "ok1");
    assert.deepEqual(lines[1], { path: "/metrics/job/j/a/1/b", status: 400, error: 'odd number of components in label string "/a/1/b"' });
    assert.deepEqual(lines[2], { path: "/metrics/job/j/__x/1", status: 400, error: 'improper label name "__x"' });
    assert.equal(lines[3]!.status, 404);
  });

  it("follows --shard-by job and the DYSHARD_UPSTREAMS environment variable", () => {
    const r = dyshard(["route", "--shard-by", "job", "/metrics/job/j/i/1", "/metrics/job/j/i/2"], undefined, {
      DYSHARD_UPSTREAMS: "http://a:1,http://b:2,http://c:3,http://d:4",
    });
    assert.equal(r.status, 0, r.stderr);
    const [a, b] = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { key: string; upstream: string });
    assert.equal(a!.key, '{job="j"}');
    assert.equal(a!.upstream, b!.upstream);
  });
});

describe("dyshard serve", () => {
  for (const [args, env, key] of [
    [["--health-interval", "often"], {}, "health.interval"],
    [["--mode", "sideways"], {}, "mode"],
    [[], { DYSHARD_ENGINE: "nginx" }, "engine"],
    [["--listen", "9091"], {}, "listen"],
  ] as const) {
    it(`exits non-zero naming ${key} on a bad value`, () => {
      const r = dyshard(["serve", "--upstream", "http://127.0.0.1:1", ...args], undefined, env);
      assert.equal(r.status, 2);
      assert.match(r.stderr, new RegExp(`invalid ${key.replace(".", "\\.")}`));
    });
  }

  it("refuses to start without upstreams, saying so", () => {
    const r = dyshard(["serve", "--listen", "127.0.0.1:0"], undefined, { DYSHARD_UPSTREAMS: "" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no upstreams configured/);
  });

  it("on SIGTERM stops accepting, lets the request in flight finish, and exits 0", async () => {
    const rec = await Recorder.start();
    rec.behave = (_req, res) => setTimeout(() => res.writeHead(200).end(), 800);
    const proc = await spawnDyshard(["--upstream", rec.url, "--health-interval", "10s"]);
    try {
      const inFlight = push(proc.url, "/metrics/job/slow", "s 1\n");
      await new Promise((r) => setTimeout(r, 200));
      const exit = proc.stop("SIGTERM");
      const answered = await inFlight;
      assert.equal(answered.status, 200);
      assert.equal(await exit, 0);
      await assert.rejects(fetch(`${proc.url}/-/healthy`));
      assert.match(proc.output(), /"msg":"dyshard stopped"/);
    } finally {
      await proc.stop("SIGKILL");
      await rec.stop();
    }
  });

  for (const engine of ["undici", "native", "http-proxy"]) {
    it(`on SIGTERM cuts off a push still in flight after --shutdown-timeout and exits 0, without waiting for the upstream (${engine})`, async () => {
      const rec = await Recorder.start();
      let answered = false;
      rec.behave = (_req, res) => setTimeout(() => ((answered = true), res.writeHead(200).end()), 4000);
      const proc = await spawnDyshard([
        "--upstream",
        rec.url,
        "--engine",
        engine,
        "--health-interval",
        "10s",
        "--shutdown-timeout",
        "300ms",
        "--upstream-timeout",
        "30s",
      ]);
      try {
        const inFlight = push(proc.url, "/metrics/job/stuck", "s 1\n").catch((err: Error) => ({ status: 0, text: err.message }));
        await waitFor("the push to reach the upstream", async () => rec.requests.some((r) => r.url === "/metrics/job/stuck"));
        assert.equal(await proc.stop("SIGTERM"), 0);
        assert.equal(answered, false, "dyshard exited before the upstream answered");
        assert.notEqual((await inFlight).status, 200, "the client was cut off, not answered");
      } finally {
        await proc.stop("SIGKILL");
        await rec.stop();
      }
    });
  }
});

describe("dyshard hashmod", () => {
  it("prints the value Prometheus's hashmod gives (docs/facts/prometheus.md vectors), values joined by the separator", () => {
    const cases: [string[], string][] = [
      [["--modulus", "3", "10.0.0.2:9091"], "1"],
      [["--modulus", "1000", "baz"], "976"],
      [["--modulus", "7", "a", "b"], "2"],
      [["--modulus", "1000", "--separator", "\n", "foo", "bar"], "734"],
    ];
    for (const [args, expected] of cases) {
      const r = dyshard(["hashmod", ...args]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${expected}\n`, args.join(" "));
    }
  });

  it("refuses a modulus Prometheus refuses, and a call without values, with exit 2 and the reason", () => {
    const zero = dyshard(["hashmod", "--modulus", "0", "x"]);
    assert.equal(zero.status, 2);
    assert.match(zero.stderr, /--modulus must be a positive integer, not "0"/);
    const none = dyshard(["hashmod", "--modulus", "3"]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /missing required argument/);
  });
});

describe("--replicas on the command line", () => {
  it("route prints each path's standby upstreams with --replicas 2 (none without): the next owners of its group", () => {
    const r = dyshard(["route", ...UPSTREAMS, "--replicas", "2", "/metrics/job/j/a/1", "/metrics/job/j/a/2"]);
    assert.equal(r.status, 0, r.stderr);
    for (const line of r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { upstream: string; standbys: string[] })) {
      assert.equal(line.standbys.length, 1);
      assert.notEqual(line.standbys[0], line.upstream);
    }
    const one = JSON.parse(dyshard(["route", ...UPSTREAMS, "/metrics/job/j/a/1"]).stdout) as Record<string, unknown>;
    assert.equal("standbys" in one, false);
  });
});
