// dyshard's own endpoints: /metrics (checked by the real promtool), readiness, the ring view.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { requireBinary } from "../support/binaries.js";
import { startDyshard } from "../support/dyshard.js";
import { waitFor } from "../support/ports.js";
import { push } from "../support/push.js";
import { startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";

describe("own endpoints", () => {
  let pgs: Pushgateway[];
  let app: Awaited<ReturnType<typeof startDyshard>>;
  before(async () => {
    pgs = await startPushgateways(2);
    app = await startDyshard(
      pgs.map((p) => p.url),
      { healthInterval: "100ms", healthFall: "1", healthRise: "1" },
    );
  });
  after(async () => {
    await app?.stop();
    await stopAll(pgs ?? []);
  });

  it("serves /metrics that promtool accepts, with the documented series", async () => {
    await push(app.url, "/metrics/job/m1", "m 1\n");
    await push(app.url, "/metrics/job/m1/a/1/b", "m 1\n"); // a rejection, answered by dyshard
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const promtool = requireBinary("promtool");
    execFileSync(promtool, ["check", "metrics"], { input: text }); // throws on a lint error
    for (const name of [
      "dyshard_requests_total",
      "dyshard_request_duration_seconds_bucket",
      "dyshard_upstream_up",
      "dyshard_upstream_retries_total",
      "dyshard_ring_healthy_members",
      "dyshard_ring_changes_total",
      "process_cpu_seconds_total",
      "nodejs_heap_size_total_bytes",
    ]) {
      assert.match(text, new RegExp(`^(# TYPE )?${name}`, "m"), `${name} missing`);
    }
    assert.match(text, /dyshard_requests_total\{method="PUT",code="200",upstream="http:\/\/127\.0\.0\.1:\d+"\} 1/);
    assert.match(text, /dyshard_requests_total\{method="PUT",code="400",upstream="none"\} 1/);
    assert.match(text, /dyshard_ring_healthy_members 2/);
    // Both pushes timed: every bucket counts up to the total, and +Inf holds them all.
    assert.match(text, /^dyshard_request_duration_seconds_count 2$/m);
    assert.match(text, /^dyshard_request_duration_seconds_bucket\{le="\+Inf"\} 2$/m);
    const buckets = [...text.matchAll(/^dyshard_request_duration_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)].map((m) => Number(m[2]));
    assert.equal(buckets.length, 15);
    assert.ok(
      buckets.every((n, i) => i === 0 || n >= (buckets[i - 1] as number)),
      `buckets are cumulative: ${buckets.join(" ")}`,
    );
    assert.ok(Number(/^dyshard_request_duration_seconds_sum (\S+)$/m.exec(text)?.[1]) > 0);
  });

  it("answers /-/healthy, and /-/ready only while an upstream is healthy; the ring view and metrics follow health", async () => {
    assert.equal((await fetch(`${app.url}/-/healthy`)).status, 200);
    assert.equal((await fetch(`${app.url}/-/ready`)).status, 200);
    const ring = (await (await fetch(`${app.url}/-/dyshard/ring`)).json()) as {
      slot_count: number;
      healthy_members: number;
      upstreams: string[];
      slots: { slot: number; upstream: string; state: string; since: string }[];
    };
    assert.equal(ring.slot_count, 2);
    assert.deepEqual(
      ring.upstreams,
      pgs.map((p) => p.url),
    );
    assert.deepEqual(
      ring.slots.map((s) => s.state),
      ["healthy", "healthy"],
    );
    assert.ok(!Number.isNaN(Date.parse(ring.slots[0]!.since)));

    await stopAll(pgs);
    await waitFor("both upstreams down", async () => app.membership.healthyCount() === 0);
    const ready = await fetch(`${app.url}/-/ready`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), /no healthy upstream/);
    const down = (await (await fetch(`${app.url}/-/dyshard/ring`)).json()) as {
      healthy_members: number;
      slots: { state: string; reason: string }[];
    };
    assert.equal(down.healthy_members, 0);
    assert.deepEqual(
      down.slots.map((s) => s.state),
      ["unhealthy", "unhealthy"],
    );
    const pushed = await push(app.url, "/metrics/job/m2", "m 1\n");
    assert.equal(pushed.status, 503);
    const text = await (await fetch(`${app.url}/metrics`)).text();
    assert.match(text, /dyshard_upstream_up\{upstream="[^"]+"\} 0/);
    assert.match(text, /dyshard_ring_changes_total [1-9]/);
    assert.ok(
      app.logs.some((l) => l.includes('"msg":"upstream down"')),
      "health changes are logged",
    );

    await Promise.all(pgs.map((p) => p.restart()));
    await waitFor("upstreams back", async () => app.membership.healthyCount() === 2);
    assert.equal((await fetch(`${app.url}/-/ready`)).status, 200);
  });

  it("answers 405 to GET on a push path, as the Pushgateway does, and 404 elsewhere", async () => {
    const get = await fetch(`${app.url}/metrics/job/x`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "DELETE, OPTIONS, POST, PUT");
    assert.equal((await fetch(`${app.url}/nothing/here`)).status, 404);
  });
});
