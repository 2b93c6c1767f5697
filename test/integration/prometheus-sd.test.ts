// GET /-/dyshard/sd (http_sd for Prometheus) in static and Consul mode and with --workers, its
// filters, and the health-aware allocation over Prometheus servers (--prometheus) with real
// Prometheus servers: every Pushgateway scraped by one live server, a stopped server's
// Pushgateways moved to the survivor and back when it returns.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { hashmod } from "../../src/prometheus/hashmod.js";
import type { TargetGroup } from "../../src/prometheus/sd-targets.js";
import type { App } from "../../src/runtime/single-process.js";
import { ConsulEmulator } from "../support/consul-emulator.js";
import { spawnDyshard, startDyshard } from "../support/dyshard.js";
import { freePort, waitFor } from "../support/ports.js";
import { Prometheus } from "../support/prometheus.js";
import { startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";

async function sd(base: string, query = ""): Promise<{ status: number; type: string | null; groups: TargetGroup[]; text: string }> {
  const res = await fetch(`${base}/-/dyshard/sd${query}`);
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type"), groups: res.ok ? (JSON.parse(text) as TargetGroup[]) : [], text };
}

const addresses = (groups: TargetGroup[]) => groups.map((g) => g.targets[0]);
const hostPort = (url: string) => new URL(url).host;

/** A Prometheus config scraping the Pushgateways listed at `sdUrl`, refreshed every second. */
function scrapeConfig(sdUrl: string): string {
  return [
    "global: { scrape_interval: 1s, evaluation_interval: 1s }",
    "scrape_configs:",
    "  - job_name: pushgateway",
    "    honor_labels: true",
    "    http_sd_configs:",
    `      - url: ${JSON.stringify(sdUrl)}`,
    "        refresh_interval: 1s",
    "",
  ].join("\n");
}

describe("/-/dyshard/sd", () => {
  let pgs: Pushgateway[];
  let app: App;
  before(async () => {
    pgs = await startPushgateways(3);
    app = await startDyshard(pgs.map((p) => p.url));
  });
  after(async () => {
    await app?.stop();
    await stopAll(pgs ?? []);
  });

  it("lists every Pushgateway as http_sd JSON, and only the healthy ones with ?healthy=1", async () => {
    const all = await sd(app.url);
    assert.equal(all.status, 200);
    assert.equal(all.type, "application/json");
    assert.deepEqual(
      addresses(all.groups),
      pgs.map((p) => hostPort(p.url)),
    );
    assert.deepEqual(
      all.groups.map((g) => [g.labels.__meta_dyshard_slot, g.labels.__meta_dyshard_upstream, g.labels.__meta_dyshard_healthy]),
      pgs.map((p, i) => [String(i), p.url, "true"]),
    );
    await pgs[1]!.kill();
    try {
      await waitFor("slot 1 down", async () => !app.membership.members[1]!.healthy, 10_000);
      const healthy = await sd(app.url, "?healthy=1");
      assert.deepEqual(addresses(healthy.groups), [hostPort(pgs[0]!.url), hostPort(pgs[2]!.url)]);
      assert.equal((await sd(app.url)).groups[1]!.labels.__meta_dyshard_healthy, "false", "still listed without the filter");
    } finally {
      await pgs[1]!.restart();
    }
    await waitFor("slot 1 back", async () => app.membership.members[1]!.healthy, 10_000);
  });

  it("?shard=I&of=K lists what server I keeps under hashmod of __address__; a bad I or K is a 400 that says why", async () => {
    for (const of of [1, 2, 3]) {
      const seen: string[] = [];
      for (let i = 0; i < of; i++) {
        const part = await sd(app.url, `?shard=${i}&of=${of}`);
        for (const a of addresses(part.groups)) assert.equal(hashmod([a], of), i);
        seen.push(...addresses(part.groups));
      }
      assert.deepEqual(seen.sort(), pgs.map((p) => hostPort(p.url)).sort(), `of=${of}: each Pushgateway in exactly one shard`);
    }
    for (const [query, reason] of [
      ["?shard=2&of=2", /from 0 to 1 for of=2/],
      ["?shard=0", /give both shard=I and of=K/],
      ["?shard=0&of=0", /of must be/],
    ] as const) {
      const bad = await sd(app.url, query);
      assert.equal(bad.status, 400, query);
      assert.match(bad.text, reason);
    }
  });

  it("?prometheus=NAME without --prometheus is a 404 that says how to name the servers", async () => {
    const res = await sd(app.url, "?prometheus=a");
    assert.equal(res.status, 404);
    assert.match(res.text, /--prometheus NAME=URL/);
  });

  it("works in Consul mode (the members Consul reports) and with --workers 2 (each worker answers alike)", async () => {
    const consul = await ConsulEmulator.start({ minCheckIntervalMs: 100 });
    const viaConsul = await startDyshard(
      pgs.map((p) => p.url),
      { discovery: "consul", consulAddress: consul.url, consulWait: "2s", consulRegister: true, consulCheckInterval: "1s" },
    );
    // Two Prometheus servers nobody listens on: both go down, and each keeps the Pushgateways it had.
    const nobody = [await freePort(), await freePort()];
    const workers = await spawnDyshard([
      "--workers",
      "2",
      ...pgs.flatMap((p) => ["--upstream", p.url]),
      ...["a", "b"].flatMap((n, i) => ["--prometheus", `${n}=http://127.0.0.1:${nobody[i]}`]),
    ]);
    try {
      await waitFor("Consul members", async () => viaConsul.membership.healthyCount() === 3, 10_000);
      assert.deepEqual(addresses((await sd(viaConsul.url)).groups).sort(), pgs.map((p) => hostPort(p.url)).sort());
      const answers = await Promise.all(Array.from({ length: 6 }, () => sd(workers.url, "?shard=0&of=2")));
      for (const a of answers) assert.deepEqual(a.groups, answers[0]!.groups);
      assert.deepEqual(addresses(answers[0]!.groups), addresses((await sd(app.url, "?shard=0&of=2")).groups));
      // ?prometheus=NAME through a worker: asked of the primary over IPC.
      const ring = async () =>
        (await (await fetch(`${workers.url}/-/dyshard/ring`)).json()) as { prometheus?: { servers: { healthy: boolean }[] } };
      await waitFor(
        "both Prometheus servers down",
        async () => (await ring()).prometheus?.servers.every((s) => !s.healthy) === true,
        15_000,
        200,
      );
      const [a, b] = await Promise.all([sd(workers.url, "?prometheus=a"), sd(workers.url, "?prometheus=b")]);
      assert.deepEqual(
        [...addresses(a.groups), ...addresses(b.groups)].sort(),
        pgs.map((p) => hostPort(p.url)).sort(),
        "each Pushgateway listed by one",
      );
      const unknown = await sd(workers.url, "?prometheus=c");
      assert.equal(unknown.status, 404);
      assert.match(unknown.text, /known: a, b/);
    } finally {
      await Promise.all([viaConsul.stop(), workers.stop()]);
      await consul.stop();
    }
  });
});

describe("scrape allocation over real Prometheus servers (--prometheus)", () => {
  let pgs: Pushgateway[];
  let proms: Prometheus[] = [];
  let dyshard: Awaited<ReturnType<typeof spawnDyshard>> | undefined;
  before(async () => {
    pgs = await startPushgateways(3);
  });
  after(async () => {
    await dyshard?.stop();
    await Promise.all(proms.map((p) => p.remove()));
    await stopAll(pgs ?? []);
  });

  it("each Pushgateway is active in exactly one server; a stopped server's move to the survivor, and return when it is back", async () => {
    const dyPort = await freePort();
    const base = `http://127.0.0.1:${dyPort}`;
    const ports = [await freePort(), await freePort()];
    const names = ["prom-a", "prom-b"];
    proms = await Promise.all(names.map((n, i) => Prometheus.start(scrapeConfig(`${base}/-/dyshard/sd?prometheus=${n}`), ports[i])));
    dyshard = await spawnDyshard(
      [...pgs.flatMap((p) => ["--upstream", p.url]), ...names.flatMap((n, i) => ["--prometheus", `${n}=${proms[i]!.url}`])].concat([
        "--health-interval",
        "300ms",
        "--health-fall",
        "2",
        "--health-rise",
        "1",
      ]),
      {},
      dyPort,
    );
    const active = async () =>
      Promise.all(
        proms.map(async (p) => (await p.activeTargets("pushgateway").catch(() => [])).map((t) => t.discoveredLabels.__address__).sort()),
      );
    const every = pgs.map((p) => hostPort(p.url)).sort();
    await waitFor(
      "both servers scraping their share",
      async () => {
        const [a, b] = await active();
        return [...a!, ...b!].sort().join() === every.join();
      },
      30_000,
      250,
    );
    const [a, b] = await active();
    process.stdout.write(`# allocation: prom-a scrapes ${a!.length}, prom-b ${b!.length} of 3 Pushgateways\n`);
    const unknown = await sd(base, "?prometheus=nope");
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /no Prometheus server named "nope"; known: prom-a, prom-b/);
    // A second dyshard with the same config allocates alike.
    const twin = await startDyshard(
      pgs.map((p) => p.url),
      { prometheus: names.map((n, i) => `${n}=${proms[i]!.url}`) },
    );
    try {
      for (const n of names)
        assert.deepEqual((await sd(twin.url, `?prometheus=${n}`)).groups, (await sd(base, `?prometheus=${n}`)).groups, n);
    } finally {
      await twin.stop();
    }

    // The ports are random, so the hash may give one server all three: stop the one with more.
    const v = a!.length >= b!.length ? 0 : 1;
    const [victim, survivor] = [proms[v]!, proms[1 - v]!];
    const [victimName, survivorName] = [names[v]!, names[1 - v]!];
    const victimTargets = v === 0 ? a! : b!;
    await victim.stop();
    const stopped = performance.now();
    await waitFor(
      `every Pushgateway active in ${survivorName}`,
      async () => (await survivor.activeTargets("pushgateway")).length === 3,
      30_000,
      100,
    );
    const movedMs = performance.now() - stopped;
    const ring = (await (await fetch(`${base}/-/dyshard/ring`)).json()) as {
      prometheus: { servers: { name: string; healthy: boolean; targets: string[] }[] };
    };
    assert.deepEqual(
      ring.prometheus.servers.map((s) => [s.name, s.healthy, s.targets.length]).sort(),
      [
        [victimName, false, 0],
        [survivorName, true, 3],
      ].sort(),
    );
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, new RegExp(`^dyshard_scrape_targets\\{prometheus="${survivorName}"\\} 3$`, "m"));
    assert.match(metrics, new RegExp(`^dyshard_prometheus_up\\{prometheus="${victimName}"\\} 0$`, "m"));

    await victim.restart();
    const restarted = performance.now();
    await waitFor(
      `${victimName} scraping its share again`,
      async () => {
        const now = await active();
        return now[v]!.join() === victimTargets.join() && now[1 - v]!.length === 3 - victimTargets.length;
      },
      30_000,
      100,
    );
    const backMs = performance.now() - restarted;
    process.stdout.write(
      `# allocation: after ${victimName} (${victimTargets.length} of 3) stopped, all 3 active in ${survivorName} within ${movedMs.toFixed(0)} ms; after it restarted, its ${victimTargets.length} back within ${backMs.toFixed(0)} ms (refresh 1s, scrape 1s, checks 300ms x2)\n`,
    );
    // Bound: dyshard's fall (2 x 300 ms) + refresh_interval 1 s + the discovery manager's 5 s + a scrape interval.
    assert.ok(movedMs < 10_000, `moved in ${movedMs.toFixed(0)} ms`);
  });
});
