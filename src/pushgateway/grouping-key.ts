// The grouping key of a push, parsed exactly as Pushgateway 1.5.1 parses it (net/http's ServeMux
// cleaning, the route table, handler/push.go's splitLabels), so that dyshard routes by the group
// the Pushgateway will store and answers every rejection itself, with the same status and text.
import { binaryToUtf8, cleanPath, decodeBase64Url, escapePath, goQuote, percentDecodeBinary } from "./go-compat.js";

/** A group as the Pushgateway stores it: the job and the other grouping labels (values may be ""). */
export interface GroupingKey {
  job: string;
  labels: Record<string, string>;
}

export type ParsedPush =
  | { kind: "group"; group: GroupingKey }
  /**
   * The Pushgateway (or dyshard, for pushes that would break it) answers this without storing
   * anything. `early` rejections come from net/http itself, before the method is even looked at.
   */
  | { kind: "reject"; status: number; message: string; location?: string; early?: boolean }
  /** Not under /metrics/job: not a push path at all. */
  | { kind: "other" };

const PUSH_PREFIX = "/metrics/job";
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const BASE64_SUFFIX = "@base64";
/** Printable ASCII without `%`: such a path needs no decoding (and holds no invalid UTF-8). */
const PLAIN_PUSH = /^\/metrics\/job(?:@base64)?\/[!-$&-~]*$/;

/** Parses a raw request target (`/metrics/job/...`, percent-encoded, query allowed). */
export function parsePushPath(target: string): ParsedPush {
  const common = parseCommon(target);
  return common ? { kind: "group", group: groupOf(common) } : parseExactly(target);
}

/** A push that parseCommon read: the job and the label pairs in path order (duplicates kept). */
export interface CommonPush {
  job: string;
  names: string[];
  values: string[];
  /** Some value holds `"`, `\` or a newline, which the routing key must escape. */
  escape: boolean;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** What path.Clean would change: an empty, `.` or `..` segment. */
const NOT_CLEAN = /\/\/|\/\./;
const ENCODED_OR_QUOTED = /[%"\\\n]/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The push path as nearly every client writes it: valid UTF-8 after percent-decoding, already
 * clean, a plain job, base64 values without CR/LF. Returns undefined for anything else, and for
 * anything the Pushgateway would reject, so that parseExactly gives the exact answer. It is on
 * every push's path, hence arrays rather than an object per group.
 */
export function parseCommon(target: string): CommonPush | undefined {
  const q = target.indexOf("?");
  let path = q < 0 ? target : target.slice(0, q);
  if (!path.startsWith(PUSH_PREFIX + "/")) return undefined;
  let escape = false;
  // One scan for the usual case, where nothing needs decoding or escaping (a regex with one
  // character class scans fastest; unclean segments, `//` and `/.`, are caught below).
  if (ENCODED_OR_QUOTED.test(path)) {
    if (path.includes("%")) {
      try {
        path = decodeURIComponent(path);
      } catch {
        return undefined; // a bad escape, or bytes that are not UTF-8
      }
    }
    if (NOT_CLEAN.test(path) || !path.startsWith(PUSH_PREFIX + "/")) return undefined;
    escape = NEEDS_ESCAPE.test(path);
  }
  let at = PUSH_PREFIX.length + 1;
  let slash = path.indexOf("/", at);
  const job = slash < 0 ? path.slice(at) : path.slice(at, slash);
  if (unclean(job)) return undefined;
  const names: string[] = [];
  const values: string[] = [];
  while (slash >= 0 && slash < path.length - 1) {
    at = slash + 1;
    slash = path.indexOf("/", at);
    if (slash < 0) return undefined; // odd number of components
    let name = path.slice(at, slash);
    at = slash + 1;
    slash = path.indexOf("/", at);
    let value = slash < 0 ? path.slice(at) : path.slice(at, slash);
    if (slash >= 0 || value !== "") if (unclean(value)) return undefined; // a last empty value is `/a/`, not `//`
    if (name.endsWith(BASE64_SUFFIX)) {
      name = name.slice(0, -BASE64_SUFFIX.length);
      let end = value.length;
      while (end > 0 && value.charCodeAt(end - 1) === 61) end--; // Go trims trailing "="
      const raw = value.slice(0, end);
      if (!BASE64URL.test(raw) || raw.length % 4 === 1) return undefined;
      try {
        value = raw === "" ? "" : utf8.decode(Buffer.from(raw, "base64url"));
        escape ||= NEEDS_ESCAPE.test(value);
      } catch {
        return undefined;
      }
    }
    if (!isLabelName(name)) return undefined;
    names.push(name);
    values.push(value);
  }
  if (slash >= 0 && slash === path.length - 1 && names.length > 0) return undefined; // `/a/1/`: odd
  return { job, names, values, escape };
}

/** A segment path.Clean would change: empty (from `//`) or starting with a dot (`/.`, `/..`; `.x` is declined too). */
function unclean(segment: string): boolean {
  return segment.length === 0 || segment.charCodeAt(0) === 46;
}

/** LABEL_NAME and not reserved, without a regex (this runs for every label of every push). */
function isLabelName(name: string): boolean {
  const n = name.length;
  if (n === 0 || (n > 1 && name.charCodeAt(0) === 95 && name.charCodeAt(1) === 95)) return false;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    const letter = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
    if (!letter && !(i > 0 && c >= 48 && c <= 57)) return false;
  }
  return true;
}

export function groupOf(p: CommonPush): GroupingKey {
  const labels: Record<string, string> = {};
  // The last of duplicate names wins, as in the Pushgateway's map; the URL's job overwrites a `job` label.
  for (let i = 0; i < p.names.length; i++) if (p.names[i] !== "job") labels[p.names[i] as string] = p.values[i] as string;
  return { job: p.job, labels };
}

const same = (v: string) => v;

/** routingKey of a CommonPush, without building the group first. */
export function commonRoutingKey(p: CommonPush, shardBy: ShardBy): string {
  const esc = p.escape ? escapeValue : same;
  const job = 'job="' + esc(p.job) + '"';
  const { names, values } = p;
  if (shardBy === "job" || names.length === 0) return "{" + job + "}";
  // A stable insertion sort of the label positions by name (a push has a handful): of equal
  // names the last in the path comes last, and wins, as in the Pushgateway's map.
  const order: number[] = [];
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    if (name === "job") continue;
    let at = order.length;
    order.push(i);
    while (at > 0 && (names[order[at - 1] as number] as string) > name) {
      order[at] = order[at - 1] as number;
      at--;
    }
    order[at] = i;
  }
  let key = "{";
  let jobDone = false;
  for (let k = 0; k < order.length; k++) {
    const i = order[k] as number;
    const name = names[i] as string;
    if (k + 1 < order.length && names[order[k + 1] as number] === name) continue; // a later duplicate wins
    const value = values[i] as string;
    if (value === "") continue;
    if (!jobDone && name > "job") {
      key += (key.length > 1 ? "," : "") + job;
      jobDone = true;
    }
    key += (key.length > 1 ? "," : "") + name + '="' + esc(value) + '"';
  }
  if (!jobDone) key += (key.length > 1 ? "," : "") + job;
  return key + "}";
}

/** The Pushgateway's parsing, step by step, on bytes: every rejection with its exact answer. */
export function parseExactly(target: string): ParsedPush {
  const q = target.indexOf("?");
  const rawPath = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? "" : target.slice(q);
  let clean: string;
  let prefix: string | undefined;
  const plain = PLAIN_PUSH.test(rawPath);
  if (plain && !rawPath.includes("//") && !rawPath.includes("/.")) {
    // The common case, a plain ASCII push path: nothing to decode, clean or case-fix.
    clean = rawPath;
    prefix = rawPath.startsWith(PUSH_PREFIX + BASE64_SUFFIX + "/") ? PUSH_PREFIX + BASE64_SUFFIX + "/" : PUSH_PREFIX + "/";
  } else {
    const path = percentDecodeBinary(rawPath);
    if (path === undefined) return { kind: "reject", status: 400, message: "400 Bad Request", early: true }; // net/http refuses bad escapes anywhere
    clean = cleanPath(path);
    const lower = clean.toLowerCase();
    prefix = [PUSH_PREFIX + BASE64_SUFFIX + "/", PUSH_PREFIX + "/"].find((p) => lower.startsWith(p));
    // ServeMux redirects to the cleaned path, whatever it then matches (`/metrics/job/../x` → `/metrics/x`);
    // httprouter then fixes the case of the static part.
    if (clean !== path) return { kind: "reject", status: 301, message: "", location: escapePath(clean) + query, early: true };
    if (prefix === undefined) return { kind: "other" };
    if (!clean.startsWith(prefix))
      return { kind: "reject", status: 307, message: "", location: escapePath(prefix + clean.slice(prefix.length)) + query };
  }

  const jobBase64 = prefix.includes(BASE64_SUFFIX);
  const rest = clean.slice(prefix.length);
  const slash = rest.indexOf("/");
  let job = slash < 0 ? rest : rest.slice(0, slash);
  const labelString = slash < 0 ? "" : rest.slice(slash);
  if (job === "") {
    // `/metrics/job/` is redirected to `/metrics/job` (then 404); `/metrics/job@base64/` is 404.
    return jobBase64 ? reject(404, "404 page not found") : { kind: "reject", status: 307, message: "", location: PUSH_PREFIX + query };
  }

  let decodedAny = jobBase64;
  if (jobBase64) {
    const decoded = decodeBase64Url(job);
    if (decoded.error) return reject(400, `invalid base64 encoding in job name ${goQuote(decoded.value)}: ${decoded.error}`);
    job = decoded.value;
  }

  const labels: Record<string, string> = {};
  if (labelString.length > 1) {
    const parts = labelString.slice(1).split("/");
    if (parts.length % 2 !== 0) return reject(400, `odd number of components in label string ${goQuote(labelString)}`);
    for (let i = 0; i < parts.length; i += 2) {
      const name = parts[i] as string;
      let value = parts[i + 1] as string;
      const base64 = name.endsWith(BASE64_SUFFIX);
      const trimmed = base64 ? name.slice(0, -BASE64_SUFFIX.length) : name;
      if (!LABEL_NAME.test(trimmed) || trimmed.startsWith("__")) return reject(400, `improper label name ${goQuote(trimmed)}`);
      if (base64) {
        const decoded = decodeBase64Url(value);
        if (decoded.error) return reject(400, `invalid base64 encoding for label ${trimmed}=${goQuote(value)}: ${decoded.error}`);
        value = decoded.value;
        decodedAny = true;
      }
      // The last of duplicate names wins, as in the Pushgateway's map; the URL's job overwrites a `job` label.
      if (trimmed !== "job") labels[trimmed] = value;
    }
  }
  // Checked only after the label part parsed, as handler/push.go does: `/metrics/job@base64/=/a-b/1`
  // is answered `improper label name "a-b"`, not `job name is required`.
  if (job === "") return reject(400, "job name is required");
  if (plain && !decodedAny) return { kind: "group", group: { job, labels } };

  // Pushgateway 1.5.1 stores a push whose job or label value is not UTF-8 and is then broken for
  // every later push (docs/facts/pushgateway.md, "Requests that break"): never forward one.
  const jobText = binaryToUtf8(job);
  if (jobText === undefined)
    return reject(
      400,
      `job name ${goQuote(job)} is not valid UTF-8 after decoding; dyshard refuses it because Pushgateway 1.5.1 would be left failing every later push`,
    );
  const group: GroupingKey = { job: jobText, labels: {} };
  for (const [name, value] of Object.entries(labels)) {
    const text = binaryToUtf8(value);
    if (text === undefined)
      return reject(
        400,
        `value of label ${name}=${goQuote(value)} is not valid UTF-8 after decoding; dyshard refuses it because Pushgateway 1.5.1 would be left failing every later push`,
      );
    group.labels[name] = text;
  }
  return { kind: "group", group };
}

function reject(status: number, message: string): ParsedPush {
  return { kind: "reject", status, message };
}

export type ShardBy = "group" | "job";

/**
 * The group without its empty-valued labels: the spelling dyshard forwards. `{job=x}` and
 * `{job=x,instance=""}` export the same series, but are two groups to a Pushgateway, and the two
 * side by side poison it (docs/facts/pushgateway.md, "What a group is").
 */
export function withoutEmptyValues(group: GroupingKey): GroupingKey {
  const labels: Record<string, string> = {};
  for (const [name, value] of Object.entries(group.labels)) if (value !== "") labels[name] = value;
  return { job: group.job, labels };
}

/**
 * The key a group is routed by: the job and its grouping labels sorted by name, values decoded and
 * empty values dropped (`{job=j}` and `{job=j,x=""}` export the same series to Prometheus, so they
 * must share an owner), written as a Prometheus label set with escaped values, so it is unambiguous.
 */
export function routingKey(group: GroupingKey, shardBy: ShardBy = "group"): string {
  const job = 'job="' + escapeValue(group.job) + '"';
  if (shardBy === "job") return "{" + job + "}";
  const all = Object.keys(group.labels);
  if (all.length === 0) return "{" + job + "}";
  const names: string[] = ["job"];
  for (const name of all) {
    if (group.labels[name] === "") continue;
    // Insertion sort: a push has a handful of labels, and this beats Array#sort's setup.
    let i = names.length;
    names.push(name);
    while (i > 0 && (names[i - 1] as string) > name) {
      names[i] = names[i - 1] as string;
      i--;
    }
    names[i] = name;
  }
  let key = "{";
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    key += (i > 0 ? "," : "") + (name === "job" ? job : name + '="' + escapeValue(group.labels[name] as string) + '"');
  }
  return key + "}";
}

const NEEDS_ESCAPE = /[\\"\n]/;

function escapeValue(v: string): string {
  return NEEDS_ESCAPE.test(v) ? v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n") : v;
}
