// Turns a group as GET /api/v1/metrics shows it back into a text exposition (format 0.0.4) body
// and the push path of exactly that group, so dyshard can move a group from one Pushgateway to
// another. The JSON shape is Pushgateway 1.5.1's (api/v1/api.go), checked against the real binary.

export type MetricType = "COUNTER" | "GAUGE" | "UNTYPED" | "SUMMARY" | "HISTOGRAM";

// Every number in the JSON is a string, Go's fmt.Sprint of a float64: the shortest form that reads
// back to the same float ("1e+21", "1.5e-07", "NaN", "+Inf", "-0"), so copying it loses nothing.

/** A COUNTER, GAUGE or UNTYPED sample. */
export interface ApiValueMetric {
  labels: Record<string, string>;
  value: string;
}

/** Quantile keys are fmt.Sprint of the quantile ("0.5", "0.99"); `{}` when there are none. */
export interface ApiSummaryMetric {
  labels: Record<string, string>;
  quantiles: Record<string, string>;
  count: string;
  sum: string;
}

/** Bucket keys are fmt.Sprint of the upper bound ("0.005", "1e+06", "+Inf"), values cumulative counts. */
export interface ApiHistogramMetric {
  labels: Record<string, string>;
  buckets: Record<string, string>;
  count: string;
  sum: string;
}

export type ApiMetric = ApiValueMetric | ApiSummaryMetric | ApiHistogramMetric;

export interface ApiMetricFamily {
  time_stamp: string; // RFC 3339 with nanoseconds: when this family was last pushed
  type: MetricType;
  help?: string; // omitted when empty
  metrics: ApiMetric[];
}

/** One element of GET /api/v1/metrics' `data`: the grouping labels, then one key per metric family. */
export interface ApiGroup {
  labels: Record<string, string>;
  last_push_successful?: boolean;
  [metricName: string]: unknown;
}

const NOT_FAMILIES = new Set(["labels", "last_push_successful"]);
// The receiving Pushgateway stamps its own on every change (1.5.1 overwrites pushed ones silently).
const SET_BY_PUSHGATEWAY = new Set(["push_time_seconds", "push_failure_time_seconds"]);

/** The text exposition of every family of the group that a push may carry, families sorted by name. */
export function groupToText(group: ApiGroup): string {
  let out = "";
  for (const name of Object.keys(group).sort()) {
    if (NOT_FAMILIES.has(name) || SET_BY_PUSHGATEWAY.has(name)) continue;
    out += familyToText(name, group[name] as ApiMetricFamily);
  }
  return out;
}

function familyToText(name: string, family: ApiMetricFamily): string {
  const write = Object.hasOwn(WRITERS, family.type) ? WRITERS[family.type] : undefined;
  // A family we cannot write would vanish in the move: refuse instead.
  if (!write) throw new Error(`metric family ${name} has type ${String(family.type)}, which text format 0.0.4 cannot carry`);
  let out = family.help ? `# HELP ${name} ${escapeHelp(family.help)}\n` : "";
  out += `# TYPE ${name} ${family.type.toLowerCase()}\n`;
  for (const metric of family.metrics) out += write(name, metric);
  return out;
}

const WRITERS: Record<MetricType, (name: string, metric: ApiMetric) => string> = {
  COUNTER: valueSamples,
  GAUGE: valueSamples,
  UNTYPED: valueSamples,
  SUMMARY: summarySamples,
  HISTOGRAM: histogramSamples,
};

function valueSamples(name: string, metric: ApiMetric): string {
  const m = metric as ApiValueMetric;
  return sample(name, m.labels, m.value);
}

function summarySamples(name: string, metric: ApiMetric): string {
  const m = metric as ApiSummaryMetric;
  let out = "";
  // A JSON object keeps no pushed order (and JavaScript moves integer-like keys first): sort by value.
  for (const q of byNumber(Object.keys(m.quantiles))) out += sample(name, m.labels, m.quantiles[q] as string, ["quantile", q]);
  return out + sample(`${name}_sum`, m.labels, m.sum) + sample(`${name}_count`, m.labels, m.count);
}

function histogramSamples(name: string, metric: ApiMetric): string {
  const m = metric as ApiHistogramMetric;
  let out = "";
  const bounds = byNumber(Object.keys(m.buckets));
  for (const le of bounds) out += sample(`${name}_bucket`, m.labels, m.buckets[le] as string, ["le", le]);
  // The JSON has a +Inf bucket only when the pusher sent one, yet the Pushgateway exposes it (as the
  // count) either way, and the text format requires it.
  if (!bounds.some((le) => goFloat(le) === Infinity)) out += sample(`${name}_bucket`, m.labels, m.count, ["le", "+Inf"]);
  return out + sample(`${name}_sum`, m.labels, m.sum) + sample(`${name}_count`, m.labels, m.count);
}

function sample(name: string, labels: Record<string, string>, value: string, extra?: [string, string]): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((n) => `${n}="${escapeLabelValue(labels[n] as string)}"`);
  if (extra) pairs.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return pairs.length ? `${name}{${pairs.join(",")}} ${value}\n` : `${name} ${value}\n`;
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function escapeLabelValue(s: string): string {
  return escapeHelp(s).replace(/"/g, '\\"');
}

/** Go's float spelling: JavaScript's Number() reads all of it except the infinities. */
function goFloat(s: string): number {
  return s === "+Inf" ? Infinity : s === "-Inf" ? -Infinity : Number(s);
}

function byNumber(keys: string[]): string[] {
  return keys.sort((a, b) => goFloat(a) - goFloat(b));
}

/** When the group last changed successfully (Unix seconds), from its push_time_seconds gauge. */
export function pushTimeSeconds(group: ApiGroup): number | undefined {
  const family = group.push_time_seconds as ApiMetricFamily | undefined;
  const value = (family?.metrics?.[0] as ApiValueMetric | undefined)?.value;
  return value === undefined ? undefined : goFloat(value);
}

/**
 * The push path of exactly this group. Every value goes base64url (unpadded, RFC 4648 §5) so that
 * `/`, `%` or any other character survives; an empty value is `=`, which Pushgateway 1.5.1 reads as
 * "" — a plain `/instance/` segment would be lost, and {job=j} is not the same group as
 * {job=j,instance=""}. This encoder never yields invalid base64, the one `job@base64` input that
 * leaves a 1.5.1 instance hanging every later PUT.
 */
export function groupPath(labels: Record<string, string>): string {
  const job = labels.job;
  if (!job) throw new Error("a group without a job cannot be pushed (the Pushgateway answers 400 job name is required)");
  let path = `/metrics/job@base64/${base64Value(job)}`;
  for (const name of Object.keys(labels).sort()) {
    if (name !== "job") path += `/${name}@base64/${base64Value(labels[name] as string)}`;
  }
  return path;
}

function base64Value(value: string): string {
  return value === "" ? "=" : Buffer.from(value, "utf8").toString("base64url");
}
