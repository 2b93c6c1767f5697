// A house rule the linters do not check: no import cycles in src/ (modules take types from
// leaves, docs/ARCHITECTURE.md).
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { importCycles, importGraph } from "../support/imports.js";

const SRC = fileURLToPath(new URL("../../../src", import.meta.url));

test("no module of src/ imports itself through others (type-only imports included)", () => {
  const graph = importGraph(SRC);
  assert.ok(graph.size > 50, `read ${graph.size} files of ${SRC}`);
  assert.deepEqual(importCycles(graph), []);
});

test("the cycle finder finds a cycle (a check that cannot fail proves nothing)", () => {
  const graph = new Map([
    ["a.ts", ["b.ts"]],
    ["b.ts", ["c.ts"]],
    ["c.ts", ["a.ts"]],
    ["d.ts", ["a.ts"]],
  ]);
  assert.deepEqual(importCycles(graph), [["a.ts", "b.ts", "c.ts"]]);
});
