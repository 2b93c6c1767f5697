// The last handover runs, for the status page: each run's report without its steps (those can be
// thousands), newest first, and totals since this dyshard started.
import type { RunReport, RunSummary } from "./run-report.js";

export class RunHistory {
  private readonly runs: RunSummary[] = [];
  readonly totals = { runs: 0, dry_runs: 0, copied: 0, promoted: 0, deleted: 0, expired: 0, failed: 0 };

  constructor(private readonly keep = 10) {}

  add(report: RunReport): void {
    const { steps, ...rest } = report;
    this.runs.unshift({ ...rest, step_count: steps.length });
    if (this.runs.length > this.keep) this.runs.pop();
    if (report.skipped) return;
    if (report.dry_run) return void this.totals.dry_runs++;
    this.totals.runs++;
    for (const k of ["copied", "promoted", "deleted", "expired", "failed"] as const) this.totals[k] += report[k];
  }

  recent(): RunSummary[] {
    return [...this.runs];
  }
}
