// What one handover run did, as POST /-/dyshard/rebalance and `dyshard rebalance` print it (a leaf: types only).
export interface RunReport {
  dry_run: boolean;
  started_at: string;
  duration_ms: number;
  skipped?: string;
  inventoried: string[];
  errors: string[];
  groups: number;
  /** Each inventoried instance's primaries and standby copies. */
  instances: InstanceFigures[];
  /** Groups with primaries on more than one instance (Prometheus scrapes each of them twice). */
  duplicates: number;
  misplaced: number;
  /** Primaries copied to their owner from a stale primary. */
  copied: number;
  /** Primaries made from a standby copy (--replicas): the owner had lost the group. */
  promoted: number;
  merged: number;
  /** Standby copies written (--replicas): a standby slot lacked its copy or held an older one. */
  replicated: number;
  deleted: number;
  /** Groups expired (--group-ttl): every copy deleted; their copies are not counted in `deleted`. */
  expired: number;
  failed: number;
  left: number;
  steps: {
    action: string;
    group: Record<string, string>;
    owner: string | null;
    from: string[];
    /** Stale standby copies deleted (or left) there. */
    standby_from?: string[];
    /** Standby copies written there. */
    replicate?: string[];
    reason: string;
    outcome?: string;
    error?: string;
  }[];
}

export interface InstanceFigures {
  upstream: string;
  primaries: number;
  standbys: number;
}

/** A run as the status page lists it: its report without the steps (those can be thousands). */
export type RunSummary = Omit<RunReport, "steps"> & { step_count: number };
