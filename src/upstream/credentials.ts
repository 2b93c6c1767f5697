// The file --upstream-auth-file names: the credential dyshard sends to its upstreams, as the
// Authorization header. One for all upstreams, and optionally others by upstream URL:
//
//   basic_auth: { username: dyshard, password: "s3cret" }     # or: bearer_token: "abc..."
//   upstreams:                                                 # optional, overrides the one above
//     https://pg-3:9091: { bearer_token: "other" }
//
// Pure: text in, header values out (src/upstream/load-access.ts reads the file). No message here
// quotes a value of the file: they are secrets.
import { parse } from "yaml";
import { z } from "zod";
import { badFile } from "../core/errors.js";

/** Authorization header values: `fallback` for every upstream `byUrl` does not name. */
export interface Credentials {
  fallback: string | undefined;
  byUrl: ReadonlyMap<string, string>;
}

export const NO_CREDENTIALS: Credentials = { fallback: undefined, byUrl: new Map() };

const basicAuth = z
  .object({
    username: z
      .string()
      .min(1, "basic_auth.username is empty")
      .refine((u) => !u.includes(":"), "basic_auth.username may not hold ':'"),
    password: z.string(),
  })
  .strict();

// A token goes into a header as it is: visible ASCII only (RFC 6750's b64token is a subset).
const bearerToken = z.string().regex(/^[\x21-\x7e]+$/, "bearer_token must be visible ASCII characters, no spaces");

const one = { basic_auth: basicAuth.optional(), bearer_token: bearerToken.optional() };
type One = { basic_auth?: { username: string; password: string } | undefined; bearer_token?: string | undefined };

const notBoth = (c: One) => !(c.basic_auth && c.bearer_token);
const BOTH = "give basic_auth or bearer_token, not both";

const credential = z
  .object(one)
  .strict()
  .refine(notBoth, BOTH)
  .refine((c) => c.basic_auth || c.bearer_token, "give basic_auth or bearer_token");

const fileSchema = z
  .object({ ...one, upstreams: z.record(z.string(), credential).default({}) })
  .strict()
  .refine(notBoth, BOTH);

/** The header value of one credential. */
function header(c: One): string | undefined {
  if (c.bearer_token) return `Bearer ${c.bearer_token}`;
  if (c.basic_auth) return `Basic ${Buffer.from(`${c.basic_auth.username}:${c.basic_auth.password}`, "utf8").toString("base64")}`;
  return undefined;
}

/** An upstream URL as the configuration spells it (origin and path, no trailing slash). */
export function upstreamKey(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.origin + u.pathname.replace(/\/+$/, "");
  } catch {
    return undefined;
  }
}

/** Reads the file's text; throws (code DYSHARD_BAD_FILE) with a message that names `where` and the key, never a value. */
export function parseCredentials(text: string, where: string): Credentials {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    // The YAML library quotes the offending line, which may hold the secret: only the position.
    const pos = (err as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    throw badFile(`${where} is not valid YAML${pos ? ` (line ${pos.line}, column ${pos.col})` : ""}`);
  }
  const parsed = fileSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.join(".") || "(file)";
    throw badFile(`${where}: ${key}: ${issue?.message ?? "invalid"}`);
  }
  const byUrl = new Map<string, string>();
  for (const [url, c] of Object.entries(parsed.data.upstreams)) {
    const key = upstreamKey(url);
    if (key === undefined) throw badFile(`${where}: upstreams: not a URL: ${JSON.stringify(url)}`);
    byUrl.set(key, header(c) as string);
  }
  const fallback = header(parsed.data);
  if (fallback === undefined && byUrl.size === 0) throw badFile(`${where} holds no credential: give basic_auth, bearer_token or upstreams`);
  return { fallback, byUrl };
}
