// Group expiry (--group-ttl, group_ttl_by_job): which groups the sweep deletes because nobody
// pushed them for their job's TTL. Pure: the plan asks `expiryOf` for a group's cut-off.

/** What expiry reads of a group's copy (plan.ts GroupCopy has it). */
interface Pushed {
  pushTime: number | undefined;
}

export interface Expiry {
  /** Now, in Unix seconds (the unit of push_time_seconds). */
  nowS: number;
  /** A job's TTL in seconds, undefined when its groups never expire. */
  ttlS(job: string): number | undefined;
}

/** The TTL of each job: its own entry, else "*", else the default; 0 means never. Undefined when nothing expires. */
export function expiryPolicy(defaultMs: number, byJobMs: Record<string, number>): ((job: string) => number | undefined) | undefined {
  const byJob = new Map(Object.entries(byJobMs));
  const rest = byJob.get("*") ?? defaultMs;
  if (rest === 0 && [...byJob.values()].every((ms) => ms === 0)) return undefined;
  return (job) => {
    const ms = byJob.get(job) ?? rest;
    return ms > 0 ? ms / 1000 : undefined;
  };
}

/** The group's newest push over every copy (primaries and standby copies), undefined when none was ever pushed. */
export function newestPush(copies: Pushed[]): number | undefined {
  let newest: number | undefined;
  for (const c of copies) if (c.pushTime !== undefined && (newest === undefined || c.pushTime > newest)) newest = c.pushTime;
  return newest;
}

/** The push time at or before which the group has expired, when its newest push is that old; else undefined. */
export function expiryCutoff(job: string, copies: Pushed[], expiry: Expiry): { cutoff: number; ttl: number; newest: number } | undefined {
  const ttl = expiry.ttlS(job);
  const newest = newestPush(copies);
  if (ttl === undefined || newest === undefined) return undefined;
  const cutoff = expiry.nowS - ttl;
  return newest <= cutoff ? { cutoff, ttl, newest } : undefined;
}

/** "7h12m" for a reason's text. */
export function span(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [d && `${d}d`, h && `${h}h`, m && `${m}m`, (s % 60 || s === 0) && `${s % 60}s`].filter(Boolean);
  return parts.slice(0, 2).join("");
}
