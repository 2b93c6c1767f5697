// Jump consistent hash (Lamping & Veach 2014): maps a 64-bit key to a bucket in [0, buckets)
// so that growing from n to n+1 buckets moves only 1/(n+1) of the keys.
//
// The 64-bit LCG runs on two 32-bit halves in plain numbers: BigInt arithmetic allocates on every
// step and costs several times more on the push path.
const M_HI = 0x27bb2ee6; // 2862933555777941757 = 0x27BB2EE687B0B0FD
const M_LO = 0x87b0b0fd;
const TWO32 = 4294967296;

/** Jump hash of the key given as its high and low 32 bits (unsigned); `buckets` ≥ 1, unchecked (the push path's). */
export function jump(hi: number, lo: number, buckets: number): number {
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    // (hi, lo) = (hi, lo) * M + 1  (mod 2^64), with lo * M_LO split into 16-bit halves to stay exact.
    const a0 = lo & 0xffff;
    const a1 = lo >>> 16;
    const mid = a0 * (M_LO >>> 16) + a1 * (M_LO & 0xffff);
    const low = a0 * (M_LO & 0xffff) + (mid % 65536) * 65536 + 1;
    const carry = Math.floor(low / TWO32);
    const high = a1 * (M_LO >>> 16) + Math.floor(mid / 65536) + carry + Math.imul(hi, M_LO) + Math.imul(lo, M_HI);
    lo = low >>> 0;
    hi = high >>> 0;
    j = Math.floor((b + 1) * (2147483648 / ((hi >>> 1) + 1)));
  }
  return b;
}

export function jumpHash(key: bigint, buckets: number): number {
  if (!(buckets >= 1) || !Number.isInteger(buckets)) throw new RangeError(`jumpHash: buckets must be a positive integer, got ${buckets}`);
  const k = BigInt.asUintN(64, key);
  return jump(Number(k >> 32n), Number(k & 0xffffffffn), buckets);
}
