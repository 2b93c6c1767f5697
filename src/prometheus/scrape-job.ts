// Types only: a scrape job of a generated prometheus.yml (src/prometheus/scrape-config.ts), with
// the comments that go above its keys and its relabel rules.

/** One relabel rule and why it is there (a YAML comment above it; none when the rule above says it). */
export interface Rule {
  why?: string;
  rule: Record<string, unknown>;
}

export interface Job {
  /** The comment above the job. */
  why?: string;
  body: Record<string, unknown>;
  /** Key of `body` → the comment above it. */
  notes: Record<string, string>;
  rules: Rule[];
}
