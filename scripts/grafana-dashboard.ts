// deploy/grafana/dyshard.json, written from this table of rows and panels so that every panel has
// the same shape and the test (test/integration/grafana-dashboard.test.ts) can run every query
// against a real Prometheus. `node dist/scripts/grafana-dashboard.js > deploy/grafana/dyshard.json`, then
// `npx prettier --write deploy/grafana/dyshard.json`.

/** A panel: its title, unit and queries (PromQL with `$__rate_interval` and `$job` as Grafana fills them). */
interface PanelSpec {
  title: string;
  unit: string;
  queries: { expr: string; legend: string }[];
  description?: string;
}

const SEL = '{job=~"$job"}';
const rate = (metric: string, by: string, match = "") => `sum by (${by}) (rate(${metric}{job=~"$job"${match}}[$__rate_interval]))`;
const quantile = (q: number) =>
  `histogram_quantile(${q}, sum by (le) (rate(dyshard_request_duration_seconds_bucket${SEL}[$__rate_interval])))`;

export const ROWS: { title: string; panels: PanelSpec[] }[] = [
  {
    title: "Pushes",
    panels: [
      { title: "Pushes by code", unit: "reqps", queries: [{ expr: rate("dyshard_requests_total", "code"), legend: "{{code}}" }] },
      {
        title: "Pushes by upstream",
        unit: "reqps",
        queries: [{ expr: rate("dyshard_requests_total", "upstream"), legend: "{{upstream}}" }],
        description: 'upstream="none": dyshard answered itself (a refused path, no healthy upstream)',
      },
      {
        title: "Errors (5xx) by code and upstream",
        unit: "reqps",
        queries: [{ expr: rate("dyshard_requests_total", "code, upstream", ',code=~"5.."'), legend: "{{code}} {{upstream}}" }],
      },
      {
        title: "Push latency",
        unit: "s",
        queries: [0.5, 0.9, 0.99].map((q) => ({ expr: quantile(q), legend: `p${Math.round(q * 100)}` })),
      },
    ],
  },
  {
    title: "Upstreams and ring",
    panels: [
      { title: "Upstream up", unit: "none", queries: [{ expr: `max by (upstream) (dyshard_upstream_up${SEL})`, legend: "{{upstream}}" }] },
      {
        title: "Healthy members",
        unit: "none",
        queries: [{ expr: `max by (instance) (dyshard_ring_healthy_members${SEL})`, legend: "{{instance}}" }],
      },
      {
        title: "Ring changes and health changes",
        unit: "none",
        queries: [
          { expr: `sum(increase(dyshard_ring_changes_total${SEL}[$__rate_interval]))`, legend: "ring changes" },
          {
            expr: `sum by (upstream, state) (increase(dyshard_upstream_health_changes_total${SEL}[$__rate_interval]))`,
            legend: "{{upstream}} {{state}}",
          },
        ],
      },
      { title: "Retries", unit: "reqps", queries: [{ expr: rate("dyshard_upstream_retries_total", "upstream"), legend: "{{upstream}}" }] },
    ],
  },
  {
    title: "Handover",
    panels: [
      {
        title: "Groups handed over",
        unit: "ops",
        queries: [
          ...["copied", "promoted", "replicated", "failed"].map((what) => ({
            expr: `sum(rate(dyshard_handover_groups_${what}_total${SEL}[$__rate_interval]))`,
            legend: what,
          })),
          { expr: rate("dyshard_handover_groups_deleted_total", "via"), legend: "deleted via {{via}}" },
        ],
      },
      {
        title: "Misplaced groups",
        unit: "none",
        queries: [{ expr: `max(dyshard_handover_misplaced_groups${SEL})`, legend: "misplaced" }],
        description: "should fall to 0 after every run; alert when it does not",
      },
      {
        title: "Handover runs",
        unit: "none",
        queries: [
          { expr: `sum(increase(dyshard_handover_runs_total${SEL}[$__rate_interval]))`, legend: "runs" },
          { expr: `max(dyshard_handover_last_run_duration_seconds${SEL})`, legend: "last run (s)" },
          { expr: `time() - max(dyshard_handover_last_run_timestamp_seconds${SEL})`, legend: "since last run (s)" },
        ],
      },
      {
        title: "Groups expired",
        unit: "ops",
        queries: [{ expr: rate("dyshard_groups_expired_total", "job"), legend: "{{job}}" }],
        description: "with --group-ttl or group_ttl_by_job",
      },
      {
        title: "Standby writes",
        unit: "ops",
        queries: [{ expr: rate("dyshard_replica_writes_total", "result"), legend: "{{result}}" }],
        description: "with --replicas 2 or more",
      },
    ],
  },
  {
    title: "Discovery and Prometheus",
    panels: [
      {
        title: "Discovery staleness and errors",
        unit: "s",
        queries: [
          { expr: `time() - max(dyshard_discovery_last_success_timestamp_seconds${SEL})`, legend: "since last success" },
          { expr: `sum(increase(dyshard_discovery_errors_total${SEL}[$__rate_interval]))`, legend: "errors" },
        ],
        description: "Consul discovery",
      },
      {
        title: "Prometheus servers",
        unit: "none",
        queries: [
          { expr: `max by (prometheus) (dyshard_prometheus_up${SEL})`, legend: "{{prometheus}} up" },
          { expr: `max by (prometheus) (dyshard_scrape_targets${SEL})`, legend: "{{prometheus}} targets" },
        ],
        description: "with --prometheus",
      },
    ],
  },
];

/** The dashboard as Grafana imports it: a Prometheus data source and a job variable. */
export function dashboard(): object {
  const panels: object[] = [];
  let id = 1;
  let y = 0;
  for (const row of ROWS) {
    panels.push({ id: id++, type: "row", title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y: y++ }, panels: [] });
    row.panels.forEach((p, i) => {
      panels.push(panel(id++, p, { h: 8, w: 12, x: (i % 2) * 12, y: y + Math.floor(i / 2) * 8 }));
    });
    y += Math.ceil(row.panels.length / 2) * 8;
  }
  return {
    title: "dyshard",
    uid: "dyshard",
    description: "dyshard in front of sharded Pushgateways: pushes, upstreams, the ring, the handover, discovery",
    tags: ["dyshard", "pushgateway"],
    schemaVersion: 39,
    version: 1,
    editable: true,
    time: { from: "now-6h", to: "now" },
    refresh: "30s",
    templating: {
      list: [
        { name: "datasource", label: "Data source", type: "datasource", query: "prometheus" },
        {
          name: "job",
          label: "Job",
          type: "query",
          datasource: { type: "prometheus", uid: "${datasource}" },
          query: "label_values(dyshard_ring_healthy_members, job)",
          includeAll: true,
          multi: true,
          allValue: ".*",
          current: { text: "All", value: "$__all" },
          refresh: 2,
        },
      ],
    },
    panels,
  };
}

function panel(id: number, p: PanelSpec, gridPos: object): object {
  return {
    id,
    type: "timeseries",
    title: p.title,
    ...(p.description ? { description: p.description } : {}),
    datasource: { type: "prometheus", uid: "${datasource}" },
    gridPos,
    fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
    options: { legend: { displayMode: "list", placement: "bottom" }, tooltip: { mode: "multi" } },
    targets: p.queries.map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: { type: "prometheus", uid: "${datasource}" },
      expr: q.expr,
      legendFormat: q.legend,
    })),
  };
}

if (process.argv[1]?.endsWith("grafana-dashboard.js")) process.stdout.write(`${JSON.stringify(dashboard(), null, 2)}\n`);
