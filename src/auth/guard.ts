// One realm's check of a request's Authorization header against an auth file's rules: Basic
// (user and bcrypt hash) or Bearer (a token's SHA-256 digest, compared in constant time, or its
// bcrypt hash). bcrypt verdicts are cached (VerifiedCache), so only a credential's first request
// waits for bcrypt (on a thread of its own, bcrypt-pool.ts); an unknown user is compared against
// a stand-in hash, so a wrong user name takes as long as a wrong password.
import { createHash, timingSafeEqual } from "node:crypto";
import bcrypt from "bcryptjs";
import type { Realm } from "../metrics/auth-metrics.js";
import type { AuthRules } from "./auth-file.js";
import { bcryptPool } from "./bcrypt-pool.js";
import { VerifiedCache } from "./verified-cache.js";

/** true or false at once; a promise while bcrypt compares. */
export type Verdict = boolean | Promise<boolean>;

export class Guard {
  /** The WWW-Authenticate values of a 401: one per scheme the file allows. */
  readonly challenges: string[];
  private readonly cache = new VerifiedCache();
  private readonly standIn: string;

  constructor(
    private readonly rules: AuthRules,
    /** push or admin: the label of dyshard_auth_failures_total. */
    readonly realm: Realm,
  ) {
    const name = realm === "push" ? "dyshard" : "dyshard admin";
    this.challenges = [];
    if (rules.users.size > 0) this.challenges.push(`Basic realm="${name}"`);
    if (rules.tokenDigests.length + rules.tokenHashes.length > 0) this.challenges.push(`Bearer realm="${name}"`);
    const cost = Math.max(4, ...[...rules.users.values()].map((h) => bcrypt.getRounds(h)));
    this.standIn = `$2b$${String(cost).padStart(2, "0")}$${".".repeat(53)}`;
  }

  /** The verdict on an Authorization header (undefined: none given). */
  check(authorization: string | undefined): Verdict {
    if (authorization === undefined) return false;
    if (this.cache.has(authorization)) return true;
    const space = authorization.indexOf(" ");
    if (space < 1) return false;
    const scheme = authorization.slice(0, space).toLowerCase();
    const value = authorization.slice(space + 1).trim();
    if (scheme === "basic") return this.basic(authorization, value);
    if (scheme === "bearer") return this.bearer(authorization, value);
    return false;
  }

  private basic(header: string, encoded: string): Verdict {
    if (this.rules.users.size === 0) return false;
    const pair = Buffer.from(encoded, "base64").toString("utf8");
    const colon = pair.indexOf(":");
    if (colon < 0) return false;
    const hash = this.rules.users.get(pair.slice(0, colon));
    return this.remember(
      header,
      bcryptPool.compare(pair.slice(colon + 1), hash ?? this.standIn).then((ok) => ok && hash !== undefined),
    );
  }

  private bearer(header: string, token: string): Verdict {
    const digest = createHash("sha256").update(token).digest();
    let found = false;
    // Every digest compared, none skipped: the time does not tell how many matched a prefix.
    for (const d of this.rules.tokenDigests) found = timingSafeEqual(d, digest) || found;
    if (found || this.rules.tokenHashes.length === 0) return found;
    return this.remember(
      header,
      Promise.all(this.rules.tokenHashes.map((h) => bcryptPool.compare(token, h))).then((all) => all.includes(true)),
    );
  }

  private remember(header: string, verdict: Promise<boolean>): Promise<boolean> {
    return verdict.then((ok) => {
      if (ok) this.cache.add(header);
      return ok;
    });
  }
}
