// Jump consistent hash (Lamping & Veach 2014): maps a 64-bit key to a bucket in [0, buckets)
// so that growing from n to n+1 buckets moves only 1/(n+1) of the keys.
const MULT = 2862933555777941757n;
const MASK = (1n << 64n) - 1n;

export function jumpHash(key: bigint, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1) throw new RangeError(`jumpHash: buckets must be a positive integer, got ${buckets}`);
  let b = -1;
  let j = 0;
  let k = key & MASK;
  while (j < buckets) {
    b = j;
    k = (k * MULT + 1n) & MASK;
    j = Math.floor((b + 1) * (2 ** 31 / (Number(k >> 33n) + 1)));
  }
  return b;
}
