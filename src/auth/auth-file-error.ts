// A credentials file dyshard cannot use (src/auth/auth-file.ts): named with its flag and the key
// at fault, never with a hash or token from it, since start-up errors end up in logs.
import { Codes } from "../core/errors.js";

export class AuthFileError extends Error {
  readonly code: string = Codes.AUTH_FILE;
  override readonly name: string = "AuthFileError";

  constructor(flag: string, file: string, problem: string) {
    super(`${flag} ${file}: ${problem}`);
  }
}
