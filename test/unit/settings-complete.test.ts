// Every setting the schema knows has all its names: a row in the settings table (flag and
// DYSHARD_* variable), an entry in config.example.yaml, and a mention in the README. Adding a key
// to the schema and forgetting one of them fails here.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { z } from "zod";
import { SETTINGS } from "../../src/config/load.js";
import { fileSchema } from "../../src/config/schema.js";

const root = (f: string) => fileURLToPath(new URL(`../../../${f}`, import.meta.url));

/** Dotted paths of the schema's leaves (objects are walked, everything else is a leaf). */
function leaves(schema: z.ZodTypeAny, prefix = ""): string[] {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s._def.innerType;
    else if (s instanceof z.ZodEffects) s = s._def.schema;
    else break;
  }
  if (!(s instanceof z.ZodObject)) return [prefix];
  return Object.entries(s.shape as Record<string, z.ZodTypeAny>).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

function has(doc: unknown, path: string): boolean {
  let node = doc;
  for (const k of path.split(".")) {
    if (typeof node !== "object" || node === null || !(k in node)) return false;
    node = (node as Record<string, unknown>)[k];
  }
  return true;
}

it("gives every schema leaf a flag, a DYSHARD_* variable, an example entry and a README mention", () => {
  const paths = leaves(fileSchema);
  assert.ok(paths.length > 30, `found ${paths.length} settings`);
  const example = parse(readFileSync(root("config.example.yaml"), "utf8")) as unknown;
  const readme = readFileSync(root("README.md"), "utf8");
  const missing: string[] = [];
  for (const path of paths) {
    const s = SETTINGS.find((x) => x.path === path);
    if (!s) {
      missing.push(`${path}: no row in SETTINGS (flag and variable)`);
      continue;
    }
    if (!/^DYSHARD_[A-Z0-9_]+$/.test(s.env)) missing.push(`${path}: variable ${s.env}`);
    if (!has(example, path)) missing.push(`${path}: not in config.example.yaml`);
    const flag = s.flag.split(" ")[0] as string;
    if (!readme.includes(flag)) missing.push(`${path}: ${flag} not in the README`);
  }
  assert.deepEqual(missing, []);
  assert.deepEqual(
    SETTINGS.map((s) => s.path).filter((p) => !paths.includes(p)),
    [],
    "no row for a key the schema lacks",
  );
});
