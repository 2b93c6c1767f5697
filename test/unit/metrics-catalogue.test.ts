// The metric catalogue (src/metrics/) and the README agree: every dyshard_* metric any part of
// dyshard registers is named in the README, where SREs look for it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Registry } from "prom-client";
import { Membership } from "../../src/membership/membership.js";
import { controlMetrics, dataMetrics, discoveryMetrics, handoverMetrics, scrapeMetrics } from "../../src/metrics/catalogue.js";
import { loadHash64 } from "../../src/routing/hash.js";

test("every dyshard_* metric of the catalogue is named in the README", async () => {
  const registry = new Registry();
  const membership = new Membership([{ slot: 0, url: "http://pg:9091" }], await loadHash64());
  dataMetrics(membership, registry);
  controlMetrics(membership, registry);
  handoverMetrics(registry);
  discoveryMetrics(registry, () => 0);
  scrapeMetrics(registry, () => ({ replicas: 1, servers: [] }));
  const names = registry
    .getMetricsAsArray()
    .map((m) => m.name)
    .filter((n) => n.startsWith("dyshard_"));
  assert.ok(names.length >= 15, `found ${names.length}`);
  const readme = readFileSync(fileURLToPath(new URL("../../../README.md", import.meta.url)), "utf8");
  assert.deepEqual(
    names.filter((n) => !readme.includes(n)),
    [],
  );
});
