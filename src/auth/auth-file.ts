// The credentials file of --push-auth-file and --admin-auth-file, in the Pushgateway's
// --web.config.file format (Prometheus exporter-toolkit), so a Pushgateway's file can be reused:
// `basic_auth_users` maps a user to a bcrypt hash. dyshard adds `bearer_tokens`: a list of token
// hashes, `sha256:<hex>` or bcrypt, never a token in the clear. Pure: text in, rules out; an error
// names the key at fault, never a value (start-up errors end up in logs).
import { parse } from "yaml";
import { AuthFileError } from "./auth-file-error.js";

export interface AuthRules {
  /** User → bcrypt hash. */
  users: Map<string, string>;
  /** SHA-256 digests of the bearer tokens (32 bytes each). */
  tokenDigests: Buffer[];
  /** bcrypt hashes of bearer tokens. */
  tokenHashes: string[];
}

/** `$2a$`, `$2b$` (OpenBSD, Go, Python) or `$2y$` (htpasswd), a cost of 04–31, 22 salt and 31 hash characters. */
const BCRYPT = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;
const SHA256 = /^sha256:([0-9a-fA-F]{64})$/;
/** exporter-toolkit's keys that dyshard reads elsewhere (a silently ignored TLS setting would be worse than a refusal). */
const ELSEWHERE: Record<string, string> = {
  tls_server_config: "dyshard takes its certificate from --tls-cert and --tls-key",
  http_server_config: "dyshard does not read it",
};

export const HASH_HINT = "make one with `htpasswd -nBC 10 USER`";

/** Where the text came from, for the error: the flag and the file. */
export interface Source {
  flag: string;
  file: string;
}

/** The rules of one file; an AuthFileError naming the flag, the file and the problem on anything malformed. */
export function parseAuthFile(text: string, from: Source): AuthRules {
  const fail = (problem: string): never => {
    throw new AuthFileError(from.flag, from.file, problem);
  };
  const doc = readYaml(text, fail);
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    return fail("must hold a YAML mapping with basic_auth_users and/or bearer_tokens");
  const rules: AuthRules = { users: new Map(), tokenDigests: [], tokenHashes: [] };
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (key === "basic_auth_users") readUsers(value, rules, fail);
    else if (key === "bearer_tokens") readTokens(value, rules, fail);
    else if (key in ELSEWHERE) fail(`${key} is not read here: ${ELSEWHERE[key]}`);
    else fail(`unknown key ${JSON.stringify(key)} (expected basic_auth_users and/or bearer_tokens)`);
  }
  if (rules.users.size + rules.tokenDigests.length + rules.tokenHashes.length === 0)
    fail("holds no credential: nobody could pass (give basic_auth_users or bearer_tokens, or leave the flag out)");
  return rules;
}

function readYaml(text: string, fail: (problem: string) => never): unknown {
  try {
    return parse(text);
  } catch (err) {
    // yaml's message quotes the offending line, which may hold a hash: only its code and place.
    const e = err as { code?: string; linePos?: { line: number; col: number }[] };
    const at = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "";
    return fail(`not valid YAML (${e.code ?? "parse error"}${at})`);
  }
}

function readUsers(value: unknown, rules: AuthRules, fail: (problem: string) => never): void {
  if (value === null) return;
  if (typeof value !== "object" || Array.isArray(value)) fail("basic_auth_users must map user names to bcrypt hashes");
  for (const [user, hash] of Object.entries(value as Record<string, unknown>)) {
    if (user === "" || user.includes(":"))
      fail(`basic_auth_users: a user name must be non-empty and hold no ':' (${JSON.stringify(user)})`);
    if (typeof hash !== "string" || !BCRYPT.test(hash))
      fail(`basic_auth_users.${user} is not a bcrypt hash ($2a$, $2b$ or $2y$, cost 04-31; ${HASH_HINT})`);
    rules.users.set(user, hash);
  }
}

function readTokens(value: unknown, rules: AuthRules, fail: (problem: string) => never): void {
  if (value === null) return;
  if (!Array.isArray(value)) fail("bearer_tokens must be a list of token hashes (sha256:<64 hex digits> or bcrypt)");
  value.forEach((entry: unknown, i) => {
    const sha = typeof entry === "string" ? SHA256.exec(entry) : null;
    if (sha) rules.tokenDigests.push(Buffer.from(sha[1] as string, "hex"));
    else if (typeof entry === "string" && BCRYPT.test(entry)) rules.tokenHashes.push(entry);
    else
      fail(
        `bearer_tokens[${i}] is neither sha256:<64 hex digits> nor a bcrypt hash (a token is never written in the clear: \`printf %s TOKEN | sha256sum\`)`,
      );
  });
}
