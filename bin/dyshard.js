#!/usr/bin/env node
// Runs the compiled CLI (npm ci builds it through the `prepare` script).
import { existsSync } from "node:fs";
const cli = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write("dyshard: not built yet: run `npm ci` (or `npm run build`) in the dyshard folder\n");
  process.exit(2);
}
await import(cli.href);
