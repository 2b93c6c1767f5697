// A file a setting names (--tls-cert, --tls-key, --upstream-ca, --upstream-auth-file), read whole.
import { readFileSync } from "node:fs";
import { badFile } from "../core/errors.js";

/** The file's text, or an error (code DYSHARD_BAD_FILE) that names the flag and the file. */
export function readSettingFile(file: string, flag: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw badFile(`cannot read ${flag} ${file}: ${(err as Error).message}`);
  }
}
