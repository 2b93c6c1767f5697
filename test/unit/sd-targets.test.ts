// The Pushgateways as http_sd target groups, and the filters of /-/dyshard/sd.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseFilter } from "../../src/endpoints/sd.js";
import type { Member } from "../../src/membership/member.js";
import { hashmod } from "../../src/prometheus/hashmod.js";
import { targetAddress, targetGroups } from "../../src/prometheus/sd-targets.js";

function member(slot: number, url: string, healthy = true, retired = false): Member {
  return { slot, url, healthy, retired, discoveryHealthy: true, checksHealthy: healthy, since: 0, reason: "" };
}

test("one target group per Pushgateway in slot order, with its slot, URL and health; path prefix and https as Prometheus needs them", () => {
  const groups = targetGroups([
    member(2, "https://pg-c.example:9443"),
    member(0, "http://10.0.0.1:9091"),
    member(1, "http://pg-b:9091/pushgateway", false),
    member(3, "http://gone:9091", false, true),
  ]);
  assert.deepEqual(groups, [
    {
      targets: ["10.0.0.1:9091"],
      labels: { __meta_dyshard_slot: "0", __meta_dyshard_upstream: "http://10.0.0.1:9091", __meta_dyshard_healthy: "true" },
    },
    {
      targets: ["pg-b:9091"],
      labels: {
        __meta_dyshard_slot: "1",
        __meta_dyshard_upstream: "http://pg-b:9091/pushgateway",
        __meta_dyshard_healthy: "false",
        __metrics_path__: "/pushgateway/metrics",
      },
    },
    {
      targets: ["pg-c.example:9443"],
      labels: {
        __meta_dyshard_slot: "2",
        __meta_dyshard_upstream: "https://pg-c.example:9443",
        __meta_dyshard_healthy: "true",
        __scheme__: "https",
      },
    },
  ]);
});

test("the address always carries its port (what hashmod reads as __address__), IPv6 in brackets", () => {
  assert.equal(targetAddress(new URL("http://pg")), "pg:80");
  assert.equal(targetAddress(new URL("https://pg")), "pg:443");
  assert.equal(targetAddress(new URL("http://[::1]:9091")), "[::1]:9091");
});

test("healthy only, and the seed-002 shards: every target in exactly one of K shards, the one hashmod names", () => {
  const members = Array.from({ length: 12 }, (_, i) => member(i, `http://10.0.0.${i + 1}:9091`, i % 4 !== 0));
  assert.equal(targetGroups(members, { healthyOnly: true }).length, 9);
  for (const of of [1, 2, 3, 5]) {
    const seen = new Map<string, number>();
    for (let index = 0; index < of; index++)
      for (const g of targetGroups(members, { shard: { index, of } })) {
        assert.equal(hashmod(g.targets, of), index);
        assert.ok(!seen.has(g.targets[0]), `${g.targets[0]} in two shards of ${of}`);
        seen.set(g.targets[0], index);
      }
    assert.equal(seen.size, 12, `of=${of}: every target in one shard`);
  }
  // docs/facts/prometheus.md: hashmod("10.0.0.1:9091", 3) = 0, ("10.0.0.2:9091", 3) = 1.
  assert.deepEqual(
    targetGroups(members.slice(0, 2), { shard: { index: 0, of: 3 } }).map((g) => g.targets[0]),
    ["10.0.0.1:9091"],
  );
});

test("query filters: good ones parsed, bad ones refused with the reason", () => {
  const q = (s: string) => parseFilter(new URLSearchParams(s));
  assert.deepEqual(q(""), {});
  assert.deepEqual(q("healthy=1"), { healthyOnly: true });
  assert.deepEqual(q("healthy=false"), { healthyOnly: false });
  assert.deepEqual(q("shard=1&of=3"), { shard: { index: 1, of: 3 } });
  assert.match(q("healthy=yes") as string, /healthy must be 1 or 0/);
  assert.match(q("shard=1") as string, /give both shard=I and of=K/);
  assert.match(q("of=2") as string, /give both/);
  assert.match(q("shard=2&of=2") as string, /from 0 to 1 for of=2/);
  assert.match(q("shard=-1&of=2") as string, /shard must be/);
  assert.match(q("shard=0&of=0") as string, /of must be the number of Prometheus servers/);
  assert.match(q("shard=a&of=2") as string, /shard must be/);
});
