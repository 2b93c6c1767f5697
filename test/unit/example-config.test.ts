import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { it } from "node:test";
import { loadConfig } from "../../src/config/load.js";

it("config.example.yaml is a valid configuration", () => {
  const file = fileURLToPath(new URL("../../../config.example.yaml", import.meta.url));
  const c = loadConfig({ file });
  assert.equal(c.upstreams.length, 3);
  assert.equal(c.listen.port, 9091);
});
