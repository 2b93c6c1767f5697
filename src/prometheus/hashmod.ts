// Prometheus's `hashmod` relabel action (model/relabel/relabel.go; docs/facts/prometheus.md): the
// source-label values joined by the separator, md5 of their UTF-8 bytes, bytes 8..15 of the
// digest as a big-endian unsigned 64-bit integer, modulo the modulus. One function for the CLI,
// the sharded discovery and the generated configs, so that dyshard and Prometheus never disagree.
import { createHash } from "node:crypto";

export const DEFAULT_SEPARATOR = ";";

/** The hashmod of `values` joined by `separator`; `modulus` must be a positive integer. */
export function hashmod(values: readonly string[], modulus: number, separator = DEFAULT_SEPARATOR): number {
  if (!Number.isSafeInteger(modulus) || modulus < 1) throw new RangeError(`modulus must be a positive integer, not ${modulus}`);
  const digest = createHash("md5").update(values.join(separator), "utf8").digest();
  return Number(digest.readBigUInt64BE(8) % BigInt(modulus));
}
