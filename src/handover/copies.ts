// A group's copies as the handover compares and rebuilds them (--replicas R ≥ 2). Pure.
//
// The Pushgateway writes every grouping label into every metric of the group, the replica label
// too (docs/facts/pushgateway.md: URL grouping labels overwrite same-named labels in the body, but
// a label the URL lacks stays a metric label). So a standby copy promoted to the primary must lose
// the label from every metric, or Prometheus would drop the primary's series with the standby's.
import type { ApiGroup, ApiMetricFamily } from "../pushgateway/exposition.js";
import { pushTimeSeconds } from "../pushgateway/exposition.js";
import { isStandby, primaryLabels, standbyLabels } from "../pushgateway/replica.js";

const NOT_DATA = new Set(["labels", "last_push_successful", "push_time_seconds", "push_failure_time_seconds"]);

/** The group's metric family names: what it holds besides its push times. */
export function families(g: ApiGroup): string[] {
  return Object.keys(g).filter((k) => !NOT_DATA.has(k));
}

/** The group as a copy of the given kind: its grouping labels and every metric's, with or without the replica label. */
export function asCopy(group: ApiGroup, standby: boolean): ApiGroup {
  const relabel = (labels: Record<string, string>) => (standby ? standbyLabels(labels) : primaryLabels(labels));
  const out: ApiGroup = { labels: relabel(group.labels) };
  for (const [name, value] of Object.entries(group)) {
    if (name === "labels") continue;
    if (NOT_DATA.has(name)) {
      out[name] = value;
      continue;
    }
    const family = value as ApiMetricFamily;
    out[name] = { ...family, metrics: family.metrics.map((m) => ({ ...m, labels: relabel(m.labels) })) };
  }
  return out;
}

const DATA = new WeakMap<ApiGroup, string>();

/**
 * What a copy holds, whichever kind it is: its families (type, help, samples), without the push
 * times and per-family time stamps the receiving Pushgateway stamps, and without the replica label.
 */
export function dataOf(group: ApiGroup): string {
  let data = DATA.get(group);
  if (data === undefined) {
    const families = Object.keys(group)
      .filter((name) => !NOT_DATA.has(name))
      .sort()
      .map((name) => [name, familyData(group[name] as ApiMetricFamily)]);
    data = JSON.stringify(families);
    DATA.set(group, data);
  }
  return data;
}

/** Whether two copies hold the same samples: a primary and a standby copy written by one push differ only in push times. */
export function sameData(a: ApiGroup, b: ApiGroup): boolean {
  return dataOf(a) === dataOf(b);
}

export interface Pushed {
  /** push_time_seconds; -Infinity when never pushed successfully. */
  time: number;
  standby: boolean;
}

/**
 * Whether copy `a` holds a push at least as new as copy `b`'s: pushed at the same time or later,
 * or, for a primary and a standby copy (or two standby copies), holding the same samples. A push
 * writes its primary and standby copies one after the other, and every copy the handover writes is
 * stamped when written, so push times say little between kinds; samples say whether anything is
 * missing. Two primaries are compared by push time only, as with one copy per group.
 */
export function pushAtLeastAsNew(a: Pushed, b: Pushed, same: () => boolean): boolean {
  if (a.time >= b.time) return true;
  return (a.standby || b.standby) && same();
}

/** pushAtLeastAsNew for two copies read from Pushgateways. */
export function atLeastAsNew(a: ApiGroup, b: ApiGroup): boolean {
  return pushAtLeastAsNew(pushed(a), pushed(b), () => sameData(a, b));
}

function pushed(g: ApiGroup): Pushed {
  return { time: pushTimeSeconds(g) ?? -Infinity, standby: isStandby(g.labels) };
}

function familyData(family: ApiMetricFamily): unknown {
  const metrics = family.metrics.map((m) => canonical({ ...m, labels: primaryLabels(m.labels) })).sort();
  return [family.type, family.help ?? "", metrics];
}

/** JSON with keys sorted at every level (the Pushgateway's JSON keeps no order we could rely on). */
function canonical(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
}
