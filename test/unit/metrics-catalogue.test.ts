// The metric catalogue (src/metrics/) and the README agree: every dyshard_* metric any part of
// dyshard registers is named in the README, where SREs look for it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Registry } from "prom-client";
import { catalogue } from "../support/catalogue.js";

test("every dyshard_* metric of the catalogue is named in the README", async () => {
  const names = [...(await catalogue(new Registry())).keys()].filter((n) => n.startsWith("dyshard_"));
  assert.ok(names.length >= 15, `found ${names.length}`);
  const readme = readFileSync(fileURLToPath(new URL("../../../README.md", import.meta.url)), "utf8");
  assert.deepEqual(
    names.filter((n) => !readme.includes(n)),
    [],
  );
});
