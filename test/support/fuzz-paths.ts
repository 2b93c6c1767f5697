// Push paths for differential fuzzing, from a seed: valid ones and every way to get them wrong
// (bad names, odd counts, duplicate names, base64 with and without padding, percent escapes,
// unicode, very long values, unclean segments). Unicode is percent-encoded: raw bytes ≥ 0x80 are
// the one documented difference (README, "What dyshard answers itself").
import { prng } from "./prng.js";

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

const WORDS = ["a", "b", "job", "instance", "x1", "region", "_x", "A", "ü", "日本", "a b", "a/b", "a;b", 'q"u', "back\\slash", "e=1", "."];
const NAMES = ["a", "b", "instance", "le", "job", "x_1", "_x", "__x", "1a", "a-b", "ü", "", "a.b", "A9", "instance"];

function b64(s: string, padded: boolean, url: boolean): string {
  let out = Buffer.from(s, "utf8").toString("base64");
  if (url) out = out.replace(/\+/g, "-").replace(/\//g, "_");
  return padded ? out : out.replace(/=+$/, "");
}

/** A value as some client might write it in a path segment. */
function segment(r: Rand, value: string, base64: boolean): string {
  if (base64) {
    const form = r();
    if (form < 0.15) return pick(r, ["=", "==", "", "a", "QQ=x", "_-_-", "fz4+", "QUJD+A", "%3D"]);
    return b64(value, r() < 0.5, r() < 0.8);
  }
  const form = r();
  if (form < 0.5 && /^[A-Za-z0-9_.-]*$/.test(value)) return value;
  if (form < 0.6) return encodeURIComponent(value).replace(/%2F/g, r() < 0.5 ? "%2F" : "%2f");
  if (form < 0.65) return pick(r, ["%FF", "%C3", "%ED%A0%80", "%zz", "%", "%2", "%25"]);
  return encodeURIComponent(value);
}

function value(r: Rand): string {
  const form = r();
  if (form < 0.12) return "";
  if (form < 0.15) return "v".repeat(200 + Math.floor(r() * 2000));
  if (form < 0.25) return String(Math.floor(r() * 100));
  return pick(r, WORDS) + (r() < 0.5 ? String(Math.floor(r() * 10)) : "");
}

/** One push path. `index` makes most jobs unique, so groups rarely meet. */
export function fuzzPath(r: Rand, index: number): string {
  const jobB64 = r() < 0.2;
  const job = r() < 0.08 ? pick(r, ["", ".", "..", "a/b"]) : `${pick(r, WORDS)}${index}`;
  let path = `/metrics/${jobB64 ? "job@base64" : "job"}/${segment(r, job, jobB64)}`;
  const pairs = Math.floor(r() * 5);
  for (let i = 0; i < pairs; i++) {
    const b = r() < 0.2;
    const name = pick(r, NAMES);
    path += `/${encodeURIComponent(name)}${b ? "@base64" : ""}/${segment(r, value(r), b)}`;
  }
  const tail = r();
  if (tail < 0.06)
    path += "/"; // an empty last value, or an odd count
  else if (tail < 0.1)
    path += `/${encodeURIComponent(pick(r, NAMES) || "n")}`; // a name without a value
  else if (tail < 0.13)
    path = path.replace(/\/([^/]*)$/, "//$1"); // an empty segment (path.Clean: 301)
  else if (tail < 0.15) path += "/./x";
  return path;
}

export function fuzzPaths(seed: number, n: number): string[] {
  const r = prng(seed);
  return Array.from({ length: n }, (_, i) => fuzzPath(r, i));
}
