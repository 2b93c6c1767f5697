// One request to every instance (GET /api/v1/metrics, /api/v1/status, the admin wipe), at most
// FAN_OUT_CONCURRENCY at a time, each within a deadline. Every instance is accounted for: it
// answered, or it is named in `errors` (unhealthy ones too, which are not asked), never silently missing.
import type { Config } from "../config/schema.js";
import { errorText } from "../core/errors.js";
import { mapLimit } from "../core/map-limit.js";
import type { Member } from "../membership/member.js";

/** An instance that did not answer, and why: the `errors` entries of every fan-out answer. */
export interface UpstreamError {
  upstream: string;
  error: string;
}

export interface Answered<T> {
  upstream: string;
  value: T;
}

export interface FanOut<T> {
  /** In slot order. */
  answers: Answered<T>[];
  errors: UpstreamError[];
}

/** Instances asked at once: enough that a few slow ones do not hold up the rest, few enough for a big ring. */
export const FAN_OUT_CONCURRENCY = 8;

export interface FanOutOptions {
  concurrency: number;
  /** Each instance's whole request, answer body included. */
  deadlineMs: number;
}

/** Each request is bounded by --upstream-timeout, as a push is. */
export function fanOutOptions(config: Config): FanOutOptions {
  return { concurrency: FAN_OUT_CONCURRENCY, deadlineMs: config.limits.upstreamTimeoutMs };
}

/** Asks every healthy member of `members` with `ask`; the others are named as errors without being asked. */
export async function fanOut<T>(
  members: readonly Member[],
  opts: FanOutOptions,
  ask: (url: string, signal: AbortSignal) => Promise<T>,
): Promise<FanOut<T>> {
  const healthy = members.filter((m) => m.healthy);
  const outcomes = await mapLimit(healthy, opts.concurrency, async (m): Promise<Answered<T> | UpstreamError> => {
    try {
      return { upstream: m.url, value: await ask(m.url, AbortSignal.timeout(opts.deadlineMs)) };
    } catch (err) {
      return { upstream: m.url, error: errorText(err, opts.deadlineMs) };
    }
  });
  const answers: Answered<T>[] = [];
  const errors: UpstreamError[] = [];
  for (const o of outcomes) {
    if ("error" in o) errors.push({ upstream: o.upstream, error: o.error });
    else answers.push(o);
  }
  for (const m of members)
    if (!m.healthy) errors.push({ upstream: m.url, error: `not asked: marked unhealthy${m.reason ? ` (${m.reason})` : ""}` });
  return { answers, errors };
}
