// The "micro" scenario: the route decision in-process, over a few thousand realistic push paths.
//   parse        route(): percent-decoding, path cleaning, grouping key, routing key
//   hash + jump  membership.owner(key): xxhash64 of the routing key, jump hash over 3 slots
//   full         both, as the server does for each push
// src/ is imported when the scenario runs, so that the other scenarios still run if it cannot load.

export const MICRO_N = Number(process.env.BENCH_MICRO_N ?? 1_000_000);
const PATHS = 4096; // a power of two: the loop indexes with a mask
const REPEATS = 3;

export interface MicroResult {
  n: number;
  paths: number;
  repeats: number;
  /** Best of `repeats` runs of `n` decisions, ns per decision. */
  full_ns: number;
  parse_ns: number;
  hash_jump_ns: number;
}

/** Deterministic, varied paths: plain, several labels, base64 values, percent-encoding, job only. */
export function realisticPaths(count: number): string[] {
  let seed = 0x2545f491;
  const rnd = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const jobs = [
    "node_batch",
    "backup-nightly",
    "etl_orders",
    "cron.cleanup",
    "ci-build",
    "db_migrate",
    "billing_export",
    "ml-train-resnet",
    "k8s-cronjob",
    "logrotate",
  ];
  const envs = ["prod", "staging", "dev"];
  const regions = ["eu-west-1", "us-east-1", "ap-south-1"];
  const b64 = (s: string) => Buffer.from(s).toString("base64url");
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const job = jobs[rnd(jobs.length)] as string;
    const host = `ip-10-${rnd(256)}-${rnd(256)}-${rnd(256)}.${regions[rnd(3)]}.compute.internal`;
    const kind = rnd(20);
    if (kind < 10) out.push(`/metrics/job/${job}/instance/${host}:9100`);
    else if (kind < 15) out.push(`/metrics/job/${job}/instance/${host}/env/${envs[rnd(3)]}/region/${regions[rnd(3)]}`);
    else if (kind < 17) out.push(`/metrics/job/${job}/instance@base64/${b64(`${host} #${i}`)}/shard/${rnd(64)}`);
    else if (kind < 19) out.push(`/metrics/job/${job}/instance/${host}/task/nightly%20run%20${i}`);
    else out.push(`/metrics/job/${job}-${i}`);
  }
  return out;
}

function best(label: string, n: number, fn: (i: number) => number): number {
  let acc = 0;
  for (let i = 0; i < Math.min(n, 200_000); i++) acc += fn(i & (PATHS - 1)); // warm-up (JIT)
  let bestNs = Infinity;
  for (let r = 0; r < REPEATS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) acc += fn(i & (PATHS - 1));
    const ns = Number(process.hrtime.bigint() - t0) / n;
    bestNs = Math.min(bestNs, ns);
  }
  if (acc === -1) process.stdout.write(label); // keeps `acc` alive
  return Math.round(bestNs * 10) / 10;
}

export async function micro(): Promise<MicroResult> {
  const { Membership } = await import("../src/membership/membership.js");
  const { loadHash64 } = await import("../src/routing/hash.js");
  const { route } = await import("../src/routing/route.js");
  const paths = realisticPaths(PATHS);
  const membership = new Membership(
    [0, 1, 2].map((slot) => ({ slot, url: `http://127.0.0.1:${9091 + slot}` })),
    await loadHash64(),
  );
  const keys = paths.map((p) => {
    const r = route("PUT", p, "group");
    if (r.kind !== "push") throw new Error(`micro: ${p} is not a push path (${r.kind})`);
    return r.key;
  });
  const full_ns = best("full", MICRO_N, (i) => {
    const r = route("PUT", paths[i] as string, "group");
    return r.kind === "push" ? (membership.owner(r.key)?.slot ?? 0) : 0;
  });
  const parse_ns = best("parse", MICRO_N, (i) => {
    const r = route("PUT", paths[i] as string, "group");
    return r.kind === "push" ? r.key.length : 0;
  });
  const hash_jump_ns = best("hash", MICRO_N, (i) => membership.owner(keys[i] as string)?.slot ?? 0);
  const result = { n: MICRO_N, paths: PATHS, repeats: REPEATS, full_ns, parse_ns, hash_jump_ns };
  process.stdout.write(
    `[micro] route decision ${full_ns} ns (parse ${parse_ns} ns, hash + jump ${hash_jump_ns} ns), best of ${REPEATS} x ${MICRO_N}\n`,
  );
  return result;
}
