// The auth file (src/auth/auth-file.ts) and the guard that checks credentials against it
// (src/auth/guard.ts): malformed files refused with the key at fault and never a value, Basic and
// Bearer verified, bcrypt paid once per credential. Hashes are made here with bcryptjs and, as a
// second implementation, Apache's htpasswd ($2y$, apt-get install -y apache2-utils).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import bcrypt from "bcryptjs";
import { AuthFileError } from "../../src/auth/auth-file-error.js";
import { parseAuthFile } from "../../src/auth/auth-file.js";
import { Guard } from "../../src/auth/guard.js";
import { BcryptPool, MAX_WAITING } from "../../src/auth/bcrypt-pool.js";
import { VerifiedCache } from "../../src/auth/verified-cache.js";
import { UnavailableError } from "../../src/core/unavailable-error.js";
import { requireBinary } from "../support/binaries.js";

const from = { flag: "--push-auth-file", file: "/etc/dyshard/push.yml" };
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
const sha256 = (token: string) => `sha256:${createHash("sha256").update(token).digest("hex")}`;
const ALICE = bcrypt.hashSync("alice-pw", 4);

function refusal(text: string): AuthFileError {
  try {
    parseAuthFile(text, from);
  } catch (err) {
    assert.ok(err instanceof AuthFileError, String(err));
    return err;
  }
  assert.fail(`accepted: ${text}`);
}

describe("the auth file", () => {
  it("reads basic_auth_users as a Pushgateway's --web.config.file, and bearer_tokens as sha256 or bcrypt", () => {
    const rules = parseAuthFile(`basic_auth_users:\n  alice: ${ALICE}\nbearer_tokens:\n  - ${sha256("t1")}\n  - ${ALICE}\n`, from);
    assert.deepEqual([...rules.users.keys()], ["alice"]);
    assert.equal(rules.tokenDigests.length, 1);
    assert.equal(rules.tokenHashes.length, 1);
  });

  it("refuses a malformed file with its flag, its name and the key at fault, never a hash or a token", () => {
    const secret = "$2y$10$JorXiiZ0uDx5l8GmZ/o8jOUCQZvsiTntEiV/U8iP1eRCDCOLK";
    const cases: [string, RegExp][] = [
      [`basic_auth_users:\n  alice: [${secret}\n`, /not valid YAML \(\w+ at line \d+, column \d+\)/],
      [`- ${secret}\n`, /must hold a YAML mapping/],
      [`basic_auth_users:\n  alice: ${secret}\n`, /basic_auth_users\.alice is not a bcrypt hash .*htpasswd -nBC 10/],
      [`basic_auth_users:\n  alice: ${"plain-" + secret}\n`, /basic_auth_users\.alice is not a bcrypt hash/],
      [`basic_auth_users:\n  - ${secret}\n`, /basic_auth_users must map user names/],
      [`basic_auth_users:\n  "a:b": ${ALICE}\n`, /hold no ':'/],
      [`bearer_tokens:\n  - ${sha256("t")}\n  - ${secret}\n`, /bearer_tokens\[1\] is neither sha256:<64 hex digits> nor a bcrypt hash/],
      [`bearer_tokens: ${secret}\n`, /bearer_tokens must be a list/],
      [`tls_server_config:\n  cert_file: x\nbasic_auth_users:\n  alice: ${ALICE}\n`, /tls_server_config is not read here: .*--tls-cert/],
      [`basic_users:\n  alice: ${ALICE}\n`, /unknown key "basic_users"/],
      ["", /must hold a YAML mapping/],
      ["basic_auth_users:\nbearer_tokens: []\n", /holds no credential/],
    ];
    for (const [text, want] of cases) {
      const err = refusal(text);
      assert.match(err.message, /^--push-auth-file \/etc\/dyshard\/push\.yml: /);
      assert.match(err.message, want);
      assert.equal(err.code, "DYSHARD_AUTH_FILE");
      for (const value of [secret, ALICE, sha256("t").slice(7)]) assert.ok(!err.message.includes(value), `${err.message} shows a value`);
    }
  });
});

describe("the guard", () => {
  it("passes the right user and password, refuses a wrong password, an unknown user, no header and other schemes", async () => {
    const guard = new Guard(parseAuthFile(`basic_auth_users:\n  alice: ${ALICE}\n`, from), "push");
    assert.deepEqual(guard.challenges, ['Basic realm="dyshard"']);
    assert.equal(await guard.check(basic("alice", "alice-pw")), true);
    assert.equal(await guard.check(basic("alice", "alice-pwx")), false);
    assert.equal(await guard.check(basic("mallory", "alice-pw")), false);
    assert.equal(await guard.check(basic("alice", "")), false);
    assert.equal(guard.check(undefined), false);
    assert.equal(guard.check("Basic"), false);
    assert.equal(guard.check("Digest username=alice"), false);
    assert.equal(guard.check(`Bearer alice-pw`), false, "no tokens in this file");
  });

  it("pays bcrypt once per credential: the second check is answered at once, a wrong one never cached", async () => {
    const guard = new Guard(parseAuthFile(`basic_auth_users:\n  alice: ${ALICE}\n`, from), "admin");
    const first = guard.check(basic("alice", "alice-pw"));
    assert.ok(first instanceof Promise, "the first check compares with bcrypt");
    assert.equal(await first, true);
    assert.equal(guard.check(basic("alice", "alice-pw")), true, "answered from the cache");
    assert.ok(guard.check(basic("alice", "wrong")) instanceof Promise);
    assert.equal(await guard.check(basic("alice", "wrong")), false);
    assert.ok(guard.check(basic("alice", "wrong")) instanceof Promise, "a refusal is not cached");
    assert.deepEqual(guard.challenges, ['Basic realm="dyshard admin"']);
  });

  it("passes a bearer token by its SHA-256 digest (at once) or its bcrypt hash", async () => {
    const rules = parseAuthFile(`bearer_tokens:\n  - ${sha256("tok-1")}\n  - ${bcrypt.hashSync("tok-2", 4)}\n`, from);
    const guard = new Guard(rules, "push");
    assert.deepEqual(guard.challenges, ['Bearer realm="dyshard"']);
    assert.equal(guard.check("Bearer tok-1"), true);
    assert.equal(guard.check("bearer   tok-1"), true, "the scheme is case-insensitive (RFC 9110 §11.1)");
    assert.equal(await guard.check("Bearer tok-2"), true);
    assert.equal(guard.check("Bearer tok-2"), true, "cached");
    assert.equal(await guard.check("Bearer tok-3"), false);
    assert.equal(await guard.check(basic("tok-1", "")), false);
  });

  it("verifies a hash made by another implementation: Apache's htpasswd ($2y$, cost 10)", async () => {
    const line = execFileSync(requireBinary("htpasswd"), ["-nbBC", "10", "bob", "bob's pw"], { encoding: "utf8" }).trim();
    const hash = line.slice("bob:".length);
    assert.match(hash, /^\$2y\$10\$/);
    const guard = new Guard(parseAuthFile(`basic_auth_users:\n  bob: "${hash}"\n`, from), "push");
    assert.equal(await guard.check(basic("bob", "bob's pw")), true);
    assert.equal(await guard.check(basic("bob", "bob's pW")), false);
  });
});

describe("the verified cache", () => {
  it("keeps at most its bound, the oldest going first, and never the credential itself", () => {
    const cache = new VerifiedCache(3);
    for (const c of ["a", "b", "c", "d"]) cache.add(c);
    assert.equal(cache.size, 3);
    assert.deepEqual(
      ["a", "b", "c", "d"].map((c) => cache.has(c)),
      [false, true, true, true],
    );
    const held = JSON.stringify([...(cache as unknown as { passed: Set<string> }).passed]);
    assert.ok(!/"[abcd]"/.test(held), held);
  });
});

describe("the bcrypt thread", () => {
  it(`compares off the event loop and refuses a check beyond ${MAX_WAITING} waiting as unavailable`, async () => {
    const pool = new BcryptPool();
    const checks = Array.from({ length: MAX_WAITING }, (_, i) => pool.compare(i % 2 ? "alice-pw" : "wrong", ALICE));
    await assert.rejects(
      pool.compare("alice-pw", ALICE),
      (err) => err instanceof UnavailableError && /too many credential checks/.test(err.message),
    );
    const verdicts = await Promise.all(checks);
    assert.deepEqual(new Set(verdicts.filter((_, i) => i % 2 === 1)), new Set([true]));
    assert.deepEqual(new Set(verdicts.filter((_, i) => i % 2 === 0)), new Set([false]));
    assert.equal(await pool.compare("alice-pw", ALICE), true, "room again once they are done");
  });
});
