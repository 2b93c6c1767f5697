// The allocation of Pushgateways over Prometheus servers: R distinct healthy servers each, and a
// dead server hands only its own Pushgateways to the survivors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadHash64 } from "../../src/routing/hash.js";
import { Ring, type SlotState } from "../../src/routing/ring.js";
import { allocate, type Allocation } from "../../src/prometheus/scrape-allocation.js";

const upstreams = Array.from({ length: 60 }, (_, i) => `http://pg-${i}.example:9091`);

function serversOf(allocation: Allocation, url: string): number[] {
  return [...allocation.entries()].filter(([, urls]) => urls.includes(url)).map(([slot]) => slot);
}

test("every Pushgateway goes to R distinct healthy servers (R = 1, 2, 3), spread over all of them", async () => {
  const ring = new Ring(["healthy", "healthy", "healthy", "unhealthy"], await loadHash64());
  for (const replicas of [1, 2, 3]) {
    const allocation = allocate(upstreams, ring, replicas);
    for (const url of upstreams) {
      const on = serversOf(allocation, url);
      assert.equal(on.length, replicas, url);
      assert.ok(!on.includes(3), "never the unhealthy server");
    }
    assert.equal(allocation.get(3), undefined);
    for (const slot of [0, 1, 2]) assert.ok((allocation.get(slot)?.length ?? 0) >= 10, `slot ${slot} gets a share`);
  }
  const four = allocate(upstreams, ring, 4);
  for (const url of upstreams) assert.equal(serversOf(four, url).length, 3, "no more than the healthy servers");
});

test("a server going down moves only its Pushgateways, and they come back when it recovers", async () => {
  const h64 = await loadHash64();
  const all: SlotState[] = ["healthy", "healthy", "healthy"];
  const before = allocate(upstreams, new Ring(all, h64), 1);
  const during = allocate(upstreams, new Ring(["healthy", "unhealthy", "healthy"], h64), 1);
  for (const url of upstreams) {
    const [was] = serversOf(before, url);
    const [now] = serversOf(during, url);
    if (was !== 1) assert.equal(now, was, `${url} stays on ${was}`);
    else assert.notEqual(now, 1);
  }
  assert.deepEqual(allocate(upstreams, new Ring(all, h64), 1), before, "back as before");
});

test("with two replicas, the first is the one-replica allocation and takes over from nothing else", async () => {
  const h64 = await loadHash64();
  const ring = new Ring(["healthy", "healthy", "healthy"], h64);
  const one = allocate(upstreams, ring, 1);
  for (const url of upstreams) assert.equal(ring.owners(new URL(url).host, 2)[0], serversOf(one, url)[0]);
});
