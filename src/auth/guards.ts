// The guards of a serving process, read at start from --push-auth-file and --admin-auth-file
// (every --workers process reads them itself). The only I/O of src/auth/.
import { readFileSync } from "node:fs";
import { AuthFileError } from "./auth-file-error.js";
import { parseAuthFile } from "./auth-file.js";
import { Guard } from "./guard.js";

export interface Guards {
  /** Pushes and every endpoint but the open ones (/-/healthy, /-/ready); none: open. */
  push?: Guard;
  /** Endpoints marked admin (rebalance, wipe); none: they take the push guard, if any. */
  admin?: Guard;
}

export function loadGuards(auth: { pushFile: string; adminFile: string }): Guards {
  const guards: Guards = {};
  if (auth.pushFile) guards.push = new Guard(readRules("--push-auth-file", auth.pushFile), "push");
  if (auth.adminFile) guards.admin = new Guard(readRules("--admin-auth-file", auth.adminFile), "admin");
  return guards;
}

function readRules(flag: string, file: string) {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new AuthFileError(flag, file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseAuthFile(text, { flag, file });
}
