// Runs the handover: inventory every healthy Pushgateway, plan, execute. Triggered by ring
// changes (after a settle delay), a periodic sweep, POST /-/dyshard/rebalance and the CLI. With
// Consul, only the holder of the handover lock runs it. Also removes a group's stale copy right
// after a push to its new owner succeeds, while the owner change is recent. With --replicas R,
// each group's owners are Ring.owners(key, R): the primary's owner, then its standby slots.
import type { Registry } from "prom-client";
import type { HandoverLock } from "./handover-lock.js";
import { handoverMetrics, type HandoverMetrics } from "../metrics/catalogue.js";
import type { Logger } from "pino";
import type { ShardBy } from "../pushgateway/grouping-key.js";
import { routingKey } from "../pushgateway/grouping-key.js";
import { primaryLabels } from "../pushgateway/replica.js";
import { PushgatewayClient } from "../pushgateway/client/pushgateway-client.js";
import type { UpstreamAccess } from "../upstream/upstream-access.js";
import { UnavailableError } from "../core/unavailable-error.js";
import type { Membership } from "../membership/membership.js";
import { inventoryFigures } from "./inventory-figures.js";
import { RecentOwners } from "./recent-owners.js";
import { RunHistory } from "./run-history.js";
import { QueuedRun } from "./queued-run.js";
import { executePlan, type StepResult } from "./executor.js";
import { readInventory, readSources } from "./inventory.js";
import { snapshotKeys } from "./step-results.js";
import type { MoveGate } from "./gate.js";
import { isAcknowledged, planHandover, type GroupCopy } from "./plan.js";
import { ledgerKeyOf, type PushLedger } from "./push-ledger.js";
import type { RunReport } from "./run-report.js";
import { tally } from "./tally.js";

export interface HandoverOptions {
  /** Periodic sweep; 0 turns it off. */
  intervalMs: number;
  /** Wait after a ring change before running, so that a flapping member causes one run. */
  settleMs: number;
  concurrency: number;
  maxInventoryBytes: number;
  timeoutMs: number;
  /** How long after an owner change a push also deletes the group's copy at the previous owner. */
  recentMs: number;
  shardBy: ShardBy;
  /** Copies of every group (--replicas): the primary on its owner, and R − 1 standby copies on the next owners (Ring.owners). */
  replicas: number;
  /** How long stop() waits for a run in progress before it cuts the run's requests (--shutdown-timeout). */
  shutdownTimeoutMs: number;
  /** Group expiry: a job's TTL in seconds (undefined: never); absent when nothing expires (expiry.ts). */
  ttlS?: (job: string) => number | undefined;
  /** https verification and credentials of the Pushgateway requests (default: none). */
  access?: UpstreamAccess;
}

export class Handover {
  private readonly client: PushgatewayClient;
  private readonly metrics: HandoverMetrics;
  private running: Promise<RunReport> | undefined;
  /** The one run of each kind waiting for the run in progress; every caller meanwhile shares it. */
  private readonly queued = new Map<boolean, QueuedRun>();
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private readonly recent: RecentOwners;
  /** The last runs' reports (without steps), for the status page. */
  readonly history = new RunHistory();

  constructor(
    private readonly membership: Membership,
    registry: Registry,
    private readonly log: Logger,
    private readonly opts: HandoverOptions,
    private readonly gate?: MoveGate,
    private readonly lock?: HandoverLock,
    /** Pushes not acknowledged (see push-ledger.ts); absent where no push passes (the CLI). */
    private readonly ledger?: PushLedger,
  ) {
    this.client = new PushgatewayClient({ timeoutMs: opts.timeoutMs, maxInventoryBytes: opts.maxInventoryBytes }, opts.access);
    this.metrics = handoverMetrics(registry);
    this.recent = new RecentOwners(membership, this.client, opts.recentMs, log, () => this.countPushDelete());
  }

  start(): void {
    this.membership.on("ring", () => this.runAfterSettle());
    // A (re)started dyshard may come with a new upstream list (a scale-up): look once at start.
    this.runAfterSettle();
    if (this.opts.intervalMs > 0) {
      this.timer = setInterval(() => void this.run().catch(() => {}), this.opts.intervalMs);
      this.timer.unref();
    }
  }

  private runAfterSettle(): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => void this.run().catch(() => {}), this.opts.settleMs);
    this.settleTimer.unref();
  }

  /** Queued runs never start; a run in progress gets the shutdown timeout, then its requests are cut. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.settleTimer);
    for (const q of this.queued.values()) q.reject(new UnavailableError("dyshard is stopping: the handover run was not started"));
    this.queued.clear();
    const finished = await settlesWithin(this.running, this.opts.shutdownTimeoutMs);
    if (finished) await this.client.close();
    else {
      this.log.warn(
        { shutdown_timeout_ms: this.opts.shutdownTimeoutMs },
        "stopping: abandoning the handover run in progress (the next run redoes its work)",
      );
      await this.client.destroy();
    }
    await this.lock?.release();
  }

  /**
   * One run. A caller arriving during a run shares the one run queued after it (one per kind:
   * dry runs plan, others act), so any number of triggers cost at most two runs more, and each
   * caller gets the report of a run that started after it asked.
   */
  run(opts: { dryRun?: boolean } = {}): Promise<RunReport> {
    const dryRun = opts.dryRun ?? false;
    if (this.stopped) return Promise.reject(new UnavailableError("dyshard is stopping"));
    if (!this.running) return this.begin(dryRun);
    let q = this.queued.get(dryRun);
    if (!q) this.queued.set(dryRun, (q = new QueuedRun()));
    return q.promise;
  }

  private begin(dryRun: boolean): Promise<RunReport> {
    const run = this.runOnce(dryRun).finally(() => {
      this.running = undefined;
      this.startQueued();
    });
    this.running = run;
    return run;
  }

  /** A run that acts goes before a dry run, so that the plan shown is the one after it. */
  private startQueued(): void {
    if (this.stopped) return;
    const dryRun = !this.queued.has(false);
    const q = this.queued.get(dryRun);
    if (!q) return;
    this.queued.delete(dryRun);
    q.resolve(this.begin(dryRun));
  }

  /** A stale copy deleted right after a push (here, or by a worker with --workers). */
  countPushDelete(): void {
    this.metrics.deleted.inc({ via: "push" });
  }

  /** After a push (PUT or DELETE) to its owner succeeded: delete the group at owners it recently had. */
  afterPush(key: string, method: string, target: string): void {
    this.recent.afterPush(key, method, target);
  }

  /** An expired group: counted by job and logged, one line each (the copies deleted, where, and why). */
  private countExpired(results: StepResult[]): void {
    for (const r of results) {
      if (r.outcome !== "expired" || r.step.action !== "expire") continue;
      const job = r.step.group.job ?? "";
      this.metrics.expired.inc({ job });
      const at = (slots: number[]) => slots.map((s) => this.membership.members[s]?.url ?? `slot ${s}`);
      this.log.info(
        { group: r.step.group, from: at(r.step.from), standby_from: at(r.step.standbyFrom), copies: r.deleted, reason: r.step.reason },
        "group expired",
      );
    }
  }

  private async runOnce(dryRun: boolean): Promise<RunReport> {
    const started = Date.now();
    const report: RunReport = {
      dry_run: dryRun,
      started_at: new Date(started).toISOString(),
      duration_ms: 0,
      inventoried: [],
      errors: [],
      groups: 0,
      instances: [],
      duplicates: 0,
      misplaced: 0,
      copied: 0,
      promoted: 0,
      merged: 0,
      replicated: 0,
      deleted: 0,
      expired: 0,
      failed: 0,
      left: 0,
      steps: [],
    };
    if (!dryRun && this.lock && !(await this.lock.tryAcquire())) {
      report.skipped = "another dyshard holds the handover lock";
      report.duration_ms = Date.now() - started;
      this.history.add(report);
      return report;
    }
    const members = this.membership.active().filter((m) => m.healthy);
    const { copies, inventoried, urls, errors } = await readInventory(this.client, members, {
      concurrency: this.opts.concurrency,
      digests: this.opts.replicas > 1,
    });
    report.inventoried.push(...urls);
    report.errors.push(...errors);
    // A standby copy is routed as its group: by the labels without the replica label.
    const keyOf = (labels: Record<string, string>) => routingKey(toGroupingKey(primaryLabels(labels)), this.opts.shardBy);
    const ownerOf = (labels: Record<string, string>) => this.membership.ring.owner(keyOf(labels));
    const ownersOf = (labels: Record<string, string>) => this.membership.ring.owners(keyOf(labels), this.opts.replicas);
    const sameData = (a: GroupCopy, b: GroupCopy) => a.data !== undefined && a.data === b.data;
    const ledger = this.ledger;
    ledger?.expire(Date.now(), (slot) => this.membership.members[slot]?.healthy !== true);
    const authority = ledger && ledger.size > 0 ? (labels: Record<string, string>) => ledger.authority(ledgerKey(labels)) : undefined;
    const ttlS = this.opts.ttlS;
    const expiry = ttlS && { nowS: Date.now() / 1000, ttlS };
    const plan = planHandover({
      copies,
      ownersOf,
      inventoried,
      sameData,
      ...(authority ? { authority } : {}),
      ...(expiry ? { expiry } : {}),
    });
    const urlOf = (slot: number) => this.membership.members[slot]?.url;
    Object.assign(report, { groups: plan.groups, misplaced: plan.misplaced }, inventoryFigures(copies, inventoried, urlOf));

    let results: StepResult[];
    if (dryRun) results = plan.steps.map((step) => ({ step, outcome: step.action === "leave" ? "left" : "skipped", deleted: 0 }));
    else {
      const sources = await readSources(this.client, urlOf, new Set(plan.steps.flatMap(snapshotKeys)), this.opts.concurrency);
      report.errors.push(...sources.errors);
      const deps = {
        client: this.client,
        urlOf,
        ownerOf,
        ownersOf,
        snapshot: sources.snapshot,
        concurrency: this.opts.concurrency,
        log: this.log,
        ...(this.gate ? { gate: { gate: this.gate, keyOf } } : {}),
        ...(authority ? { authority } : {}),
      };
      results = await executePlan(plan, deps);
      for (const r of results)
        if (isAcknowledged(r.step) && (r.outcome === "copied" || r.outcome === "deleted" || r.outcome === "replicated"))
          ledger?.resolved(ledgerKey(r.step.group));
    }
    Object.assign(report, tally(results, dryRun, urlOf));
    if (dryRun) report.expired = plan.expired; // what would expire
    report.duration_ms = Date.now() - started;
    if (!dryRun) {
      this.countExpired(results);
      this.metrics.copied.inc(report.copied + report.merged);
      this.metrics.promoted.inc(report.promoted);
      this.metrics.replicated.inc(report.replicated);
      this.metrics.deleted.inc({ via: "sweep" }, report.deleted);
      this.metrics.failed.inc(report.failed);
      this.metrics.misplaced.set(report.misplaced);
      this.metrics.runs.inc();
      this.metrics.lastRun.set(Date.now() / 1000);
      this.metrics.lastDuration.set(report.duration_ms / 1000);
      if (report.misplaced || report.expired || report.errors.length) {
        this.log.info(
          {
            groups: report.groups,
            misplaced: report.misplaced,
            copied: report.copied,
            promoted: report.promoted,
            merged: report.merged,
            replicated: report.replicated,
            deleted: report.deleted,
            expired: report.expired,
            failed: report.failed,
            left: report.left,
            errors: report.errors,
            duration_ms: report.duration_ms,
          },
          "handover run",
        );
      }
    }
    this.history.add(report);
    return report;
  }
}

/** Whether `p` settles within `ms` (true when there is nothing to wait for). */
async function settlesWithin(p: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  if (!p) return true;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function toGroupingKey(labels: Record<string, string>) {
  const { job = "", ...rest } = labels;
  return { job, labels: rest };
}

function ledgerKey(labels: Record<string, string>): string {
  return ledgerKeyOf(toGroupingKey(labels));
}
