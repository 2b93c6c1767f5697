// The Prometheus servers' allocation follows their health and the Pushgateways' membership, and
// keeps the last allocation when every server is down (nothing left unscraped by all).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Membership } from "../../src/membership/membership.js";
import { PrometheusServers } from "../../src/prometheus/prometheus-servers.js";
import { loadHash64 } from "../../src/routing/hash.js";

const health = { intervalMs: 60_000, timeoutMs: 1000, rise: 1, fall: 1 };
const prometheus = [
  { name: "a", url: "http://prom-a:9090", slot: 0 },
  { name: "b", url: "http://prom-b:9090", slot: 1 },
];

async function setup() {
  const h64 = await loadHash64();
  const pushgateways = new Membership(
    Array.from({ length: 8 }, (_, slot) => ({ slot, url: `http://pg-${slot}:9091` })),
    h64,
  );
  return { pushgateways, servers: new PrometheusServers({ prometheus, scrapeReplicas: 1, health }, pushgateways, h64) };
}

const targets = (s: PrometheusServers) => Object.fromEntries(s.view().servers.map((v) => [v.name, v.targets]));

test("every Pushgateway on one server at start; a down server's go to the other; all down keeps the last allocation", async () => {
  const { servers } = await setup();
  const start = targets(servers);
  assert.equal(start.a!.length + start.b!.length, 8);
  assert.ok(start.a!.length > 0 && start.b!.length > 0, "both get a share");
  servers.servers.setHealth(0, false, "test: a down");
  const all = Array.from({ length: 8 }, (_, slot) => `http://pg-${slot}:9091`);
  assert.deepEqual(targets(servers), { a: [], b: all }, "only a's Pushgateways moved, to b");
  const whileBOnly = targets(servers);
  servers.servers.setHealth(1, false, "test: b down too");
  assert.deepEqual(targets(servers), whileBOnly, "every server down: each keeps what it had");
  servers.servers.setHealth(0, true, "test: a back");
  servers.servers.setHealth(1, true, "test: b back");
  assert.deepEqual(targets(servers), start, "both back: as at start");
  assert.deepEqual(
    servers.view().servers.map((s) => [s.name, s.healthy, s.reason]),
    [
      ["a", true, "test: a back"],
      ["b", true, "test: b back"],
    ],
  );
});

test("a Pushgateway that joins is allocated at once; one that leaves is no longer listed", async () => {
  const { pushgateways, servers } = await setup();
  pushgateways.update([...pushgateways.active().map((m) => ({ slot: m.slot, url: m.url })), { slot: 8, url: "http://pg-8:9091" }]);
  assert.ok(Object.values(targets(servers)).flat().includes("http://pg-8:9091"));
  pushgateways.update(
    pushgateways
      .active()
      .filter((m) => m.slot !== 3)
      .map((m) => ({ slot: m.slot, url: m.url })),
  );
  assert.ok(!Object.values(targets(servers)).flat().includes("http://pg-3:9091"));
  assert.equal(Object.values(targets(servers)).flat().length, 8);
});
