// hashmod as Prometheus computes it: the vectors of docs/facts/prometheus.md (Prometheus's own
// test vectors and values confirmed by relabelling in a running Prometheus 2.42).
import { test } from "node:test";
import assert from "node:assert/strict";
import { hashmod } from "../../src/prometheus/hashmod.js";

const VECTORS: [string, number, number][] = [
  ["baz", 1000, 976],
  ["foo\nbar", 1000, 734],
  ["10.0.0.1:9091", 3, 0],
  ["10.0.0.2:9091", 3, 1],
  ["10.0.0.3:9091", 2, 0],
  ["pushgateway-0:9091", 3, 2],
  ["a;b", 7, 2],
  ["", 5, 3],
];

test("matches every vector of docs/facts/prometheus.md", () => {
  for (const [joined, modulus, expected] of VECTORS) assert.equal(hashmod([joined], modulus), expected, JSON.stringify(joined));
});

test("joins several values with the separator first (default ';')", () => {
  assert.equal(hashmod(["a", "b"], 7), 2, "a;b");
  assert.equal(hashmod(["foo", "bar"], 1000, "\n"), 734, "foo\\nbar");
  assert.equal(hashmod(["a", "b"], 7, ";"), hashmod(["a;b"], 7));
});

test("refuses a modulus Prometheus refuses (0) or cannot hold", () => {
  assert.throws(() => hashmod(["x"], 0), /positive integer/);
  assert.throws(() => hashmod(["x"], -1), /positive integer/);
  assert.throws(() => hashmod(["x"], 1.5), /positive integer/);
});
