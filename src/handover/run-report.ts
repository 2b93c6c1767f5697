// What one handover run did, as POST /-/dyshard/rebalance and `dyshard rebalance` print it (a leaf: types only).
export interface RunReport {
  dry_run: boolean;
  started_at: string;
  duration_ms: number;
  skipped?: string;
  inventoried: string[];
  errors: string[];
  groups: number;
  misplaced: number;
  copied: number;
  merged: number;
  deleted: number;
  failed: number;
  left: number;
  steps: {
    action: string;
    group: Record<string, string>;
    owner: string | null;
    from: string[];
    reason: string;
    outcome?: string;
    error?: string;
  }[];
}
