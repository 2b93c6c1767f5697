// The table of dyshard's own endpoints stays consistent with the answers written outside it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ENDPOINTS } from "../../src/endpoints/table.js";
import { isGetOnlyPath } from "../../src/http/raw-answers.js";
import { route } from "../../src/routing/route.js";

test("every endpoint has its own path, outside the push paths", () => {
  const paths = ENDPOINTS.map((e) => e.path);
  assert.equal(new Set(paths).size, paths.length);
  for (const p of paths) assert.equal(route("GET", p, "group").kind, "other", `${p} would be taken for a push path`);
});

test("a GET endpoint is GET-only for the raw answers too (an unknown method there is a 405, not a 404)", () => {
  for (const e of ENDPOINTS)
    if (e.methods.includes("GET")) assert.ok(isGetOnlyPath(e.path), `${e.path} missing from raw-answers' GET paths`);
});

test("every refused method is told what is allowed", () => {
  for (const e of ENDPOINTS) {
    assert.ok(e.refused.allow.length > 0, e.path);
    assert.ok(e.refused.body.endsWith("\n"), e.path);
  }
});
