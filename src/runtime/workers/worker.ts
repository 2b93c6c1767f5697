// A worker of --workers: serves pushes on the primary's membership, holds pushes when the
// primary's gate says so, and asks the primary for what only the control plane knows.
import { AggregatorRegistry } from "prom-client";
import type { Config } from "../../config/schema.js";
import type { Logger } from "../../core/logger.js";
import { UnavailableError } from "../../core/unavailable-error.js";
import { discoveryFor } from "../../discovery/providers.js";
import { GroupGate } from "../../handover/gate.js";
import { RecentOwners } from "../../handover/recent-owners.js";
import type { RunReport } from "../../handover/run-report.js";
import type { Membership, MemberSpec } from "../../membership/membership.js";
import { dataMetrics } from "../../metrics/catalogue.js";
import type { StatusView } from "../../http/status-view.js";
import type { ScrapeView } from "../../prometheus/scrape-view.js";
import { PushgatewayClient } from "../../pushgateway/client/pushgateway-client.js";
import { newMembership } from "../control-plane.js";
import { loadUpstreamAccess } from "../../upstream/load-access.js";
import { startDataPlane } from "../data-plane.js";
import { PendingReplies } from "./pending-replies.js";
import { isProtocolMessage, REPLY_TIMEOUT_MS, type MemberState, type ToPrimary, type ToWorker } from "./protocol.js";
import { WorkerOutcomes } from "./worker-outcomes.js";

export async function startWorker(config: Config, log: Logger): Promise<{ reload(): void; stop(): Promise<void> }> {
  const access = loadUpstreamAccess(config); // the primary said it, if insecure
  const membership = await newMembership(discoveryFor(config)); // filled in by the primary, never read from the source
  const metrics = dataMetrics(membership);
  new AggregatorRegistry(); // answers the primary's requests for this worker's metrics
  AggregatorRegistry.setRegistries([metrics.registry]);
  const tell = (msg: ToPrimary) => process.send?.(msg);
  const gate = new PrimaryGate(new GroupGate(), tell);
  const outcomes = new WorkerOutcomes(tell);
  const primary = new PendingReplies();
  const ask = <T>(what: keyof typeof REPLY_TIMEOUT_MS, msg: (id: number) => ToPrimary): Promise<T> =>
    primary.request<T>(REPLY_TIMEOUT_MS[what], `the primary's ${what}`, (id) => tell(msg(id)));
  process.on("disconnect", () => primary.closeAll(new UnavailableError("the primary process is gone")));

  // A reload asked before the listener is up is done once it is (it may have read the files already).
  let reloadAsked = false;
  let reload = () => void (reloadAsked = true);
  let first!: () => void;
  const ready = new Promise<void>((r) => (first = r));
  const onMessage = (msg: ToWorker) => {
    switch (msg.type) {
      case "dyshard:members":
        mirror(membership, msg.members);
        return first();
      case "dyshard:gate-close":
        return gate.close(msg.id, msg.keys);
      case "dyshard:gate-open":
        return gate.open(msg.id);
      case "dyshard:follow":
        return outcomes.follow(msg.groups);
      case "dyshard:unfollow":
        return outcomes.unfollow(msg.group);
      case "dyshard:reload-tls":
        return reload();
      case "dyshard:reply":
        if (msg.ok) return primary.resolve(msg.id, msg.value);
        return primary.reject(msg.id, msg.unavailable ? new UnavailableError(msg.error) : new Error(msg.error));
    }
  };
  process.on("message", (msg: unknown) => {
    if (isProtocolMessage<ToWorker>(msg)) onMessage(msg);
  });
  // A refused connection seen here: off this worker's ring now, and the primary decides for all.
  membership.on("change", ({ member, healthy, reason }) => {
    if (!healthy && !member.checksHealthy) tell({ type: "dyshard:down", slot: member.slot, url: member.url, reason });
  });
  tell({ type: "dyshard:hello" });
  await ready;

  const client = new PushgatewayClient(
    { timeoutMs: config.limits.upstreamTimeoutMs, maxInventoryBytes: config.handover.maxInventoryBytes },
    access,
  );
  const recent = new RecentOwners(membership, client, config.handover.recentWindowMs, log, () => tell({ type: "dyshard:deleted" }));
  const data = await startDataPlane({
    config,
    membership,
    metrics,
    log,
    access,
    hooks: { gate: gate.local, outcomes, afterPush: (k, m, t) => recent.afterPush(k, m, t) },
    control: {
      rebalance: (dryRun) => ask<RunReport>("rebalance", (id) => ({ type: "dyshard:rebalance", id, dryRun })),
      metrics: async () => ({
        contentType: metrics.registry.contentType,
        text: await ask<string>("metrics", (id) => ({ type: "dyshard:metrics", id })),
      }),
      scrape: async () => (await ask<ScrapeView | null>("scrape", (id) => ({ type: "dyshard:scrape", id }))) ?? undefined,
      status: () => ask<StatusView>("status", (id) => ({ type: "dyshard:status", id })),
    },
  });
  reload = () => void data.reloadTls();
  if (reloadAsked) reload();
  log.info("worker serving");
  return {
    reload,
    async stop() {
      await data.stop();
      await client.close();
    },
  };
}

/** Takes the primary's view: its health verdict as discovery's, and this worker's own reset. */
function mirror(membership: Membership, states: MemberState[]): void {
  const specs: MemberSpec[] = states.map((s) => ({
    slot: s.slot,
    url: s.url,
    retired: s.retired,
    discoveryHealthy: s.healthy,
    discoveryReason: s.reason,
  }));
  membership.update(specs);
  for (const m of membership.active()) if (!m.checksHealthy) membership.setHealth(m.slot, true, "the primary's view");
}

/** This worker's part of the primary's gate: closes when asked, acknowledges, reopens when told. */
class PrimaryGate {
  private readonly reopen = new Map<number, () => void>();
  /** Reopened before this worker held them: the primary gave up waiting. */
  private readonly openedEarly = new Set<number>();

  constructor(
    readonly local: GroupGate,
    private readonly tell: (msg: ToPrimary) => void,
  ) {}

  close(id: number, keys: string[]): void {
    void this.local.close(keys).then((open) => {
      if (this.openedEarly.delete(id)) return open();
      this.reopen.set(id, open);
      this.tell({ type: "dyshard:reply", id, ok: true, value: null });
    });
  }

  open(id: number): void {
    const open = this.reopen.get(id);
    if (open) open();
    else this.openedEarly.add(id);
    this.reopen.delete(id);
  }
}
