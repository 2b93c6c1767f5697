// Go's client_golang push.Pusher through dyshard, as a batch job written in Go uses it (Debian's
// golang-go and golang-github-prometheus-client-golang-dev, built in GOPATH mode). The Pusher keeps
// its grouping labels in a map, so every run spells the path in another order: every spelling
// must reach the same instance, and Push, Add and Delete must leave one copy, then none.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { App } from "../../src/runtime/single-process.js";
import { requireBinary } from "../support/binaries.js";
import { startDyshard } from "../support/dyshard.js";
import { Recorder } from "../support/recorder.js";
import { familyValue, startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";

const CLIENT = "/usr/share/gocode/src/github.com/prometheus/client_golang/prometheus/push";

const PUSHER = `// A batch job's pusher, as users write it with client_golang's push.Pusher.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
)

func main() {
	url, mode := os.Args[1], os.Args[2]
	value, _ := strconv.ParseFloat(os.Args[3], 64)
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "go_pusher_value", Help: "Set by the Go pusher."})
	g.Set(value)
	p := push.New(url, "gojob").Collector(g).
		Grouping("instance", "host-1").Grouping("region", "eu").Grouping("tier", "batch").Grouping("shard", "7")
	var err error
	switch mode {
	case "push":
		err = p.Push()
	case "add":
		err = p.Add()
	case "delete":
		err = p.Delete()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
`;

/** Builds the pusher in GOPATH mode; returns the binary's path. */
function buildPusher(dir: string): string {
  const go = requireBinary("go");
  if (!existsSync(CLIENT)) throw new Error("client_golang is missing: run `apt-get install -y golang-github-prometheus-client-golang-dev`");
  const src = path.join(dir, "src", "pusher");
  mkdirSync(src, { recursive: true });
  writeFileSync(path.join(src, "main.go"), PUSHER);
  const bin = path.join(dir, "pusher");
  execFileSync(go, ["build", "-o", bin, "."], {
    cwd: src,
    env: { ...process.env, GO111MODULE: "off", GOPATH: `${dir}:/usr/share/gocode`, GOCACHE: path.join(dir, "cache"), GOFLAGS: "" },
    stdio: "pipe",
    timeout: 120_000,
  });
  return bin;
}

const isGoGroup = (labels: Record<string, string>) =>
  labels.job === "gojob" && labels.instance === "host-1" && labels.region === "eu" && labels.tier === "batch" && labels.shard === "7";

describe("Go client_golang push.Pusher through dyshard", () => {
  let dir: string;
  let pusher: string;
  let pgs: Pushgateway[];
  let app: App;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "dyshard-go-"));
    pusher = buildPusher(dir);
    pgs = await startPushgateways(3);
    app = await startDyshard(pgs.map((p) => p.url));
  });
  after(async () => {
    await app?.stop();
    await stopAll(pgs ?? []);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // Asynchronously: dyshard runs in this process and must answer while the pusher waits.
  const run = (mode: string, value: number, url = app.url) => promisify(execFile)(pusher, [url, mode, String(value)], { timeout: 10_000 });

  it("spells the group's path in more than one label order across runs (what the rest relies on)", async () => {
    const recorder = await Recorder.start();
    try {
      for (let i = 0; i < 12; i++) await run("push", i, recorder.url);
      const spellings = new Set(recorder.requests.map((r) => r.url));
      process.stdout.write(`# Go pusher: ${spellings.size} spellings of one group's path in 12 runs\n`);
      assert.ok(spellings.size > 1, [...spellings].join(" "));
    } finally {
      await recorder.stop();
    }
  });

  /** The copies of the Go group: the instances that hold it, and its value on each. */
  async function copies(): Promise<{ slot: number; value: string | undefined }[]> {
    const all = await Promise.all(pgs.map((p) => p.groups()));
    return all.flatMap((groups, slot) =>
      groups
        .filter((g) => isGoGroup(g.labels))
        .map((g) => ({
          slot,
          value: familyValue(g, "go_pusher_value"),
        })),
    );
  }

  it("Push 20 times (the labels in a random order each time), then Add: one copy on one instance, with the last value; Delete: none", async () => {
    for (let i = 1; i <= 20; i++) await run("push", i);
    let held = await copies();
    assert.equal(held.length, 1, `one copy after 20 pushes: ${JSON.stringify(held)}`);
    assert.equal(held[0]!.value, "20");
    await run("add", 100);
    held = await copies();
    assert.deepEqual(
      held.map((c) => c.value),
      ["100"],
    );
    process.stdout.write(`# Go pusher: 20 Push + 1 Add through dyshard, 1 copy, on slot ${held[0]!.slot}, value ${held[0]!.value}\n`);
    await run("delete", 0);
    assert.deepEqual(await copies(), []);
  });
});
