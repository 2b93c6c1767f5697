// `--workers N`: the primary runs the control plane (health checks, discovery, handover) and N
// worker processes (node:cluster) serve pushes on the shared port. Every worker routes on the
// primary's membership, sent to it on every change, so all agree on one ring; a worker that sees
// a refused connection takes the member off its own ring at once and tells the primary. /metrics
// and POST /-/dyshard/rebalance, answered by any worker, are the primary's to compute.
import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, Registry } from "prom-client";
import type { Config } from "../config/schema.js";
import { GroupGate } from "../handover/gate.js";
import type { RunReport } from "../handover/run-report.js";
import { RecentOwners } from "../handover/recent-owners.js";
import type { Logger } from "../log.js";
import type { Cluster, MemberSpec } from "../membership/cluster.js";
import { controlMetrics, dataMetrics } from "../metrics.js";
import { PushgatewayClient } from "../pushgateway/client.js";
import { discoveryFor } from "../discovery/providers.js";
import { checkUpstreams, newCluster, newLedger, startControl, startDataPlane } from "./app.js";
import { WorkerOutcomes, type OutcomeReport } from "./worker-outcomes.js";

interface MemberState {
  slot: number;
  url: string;
  retired: boolean;
  healthy: boolean;
  reason: string;
}

type ToWorker =
  | { t: "members"; members: MemberState[] }
  | { t: "gate-close"; id: number; keys: string[] }
  | { t: "gate-open"; id: number }
  | { t: "reply"; id: number; ok: boolean; value: unknown }
  | { t: "follow"; groups: string[] }
  | { t: "unfollow"; group: string };

type ToPrimary =
  | { t: "hello" }
  | { t: "down"; slot: number; url: string; reason: string }
  | { t: "gate-closed"; id: number }
  | { t: "rebalance"; id: number; dryRun: boolean }
  | { t: "metrics"; id: number }
  | { t: "deleted" }
  | OutcomeReport;

export async function startPrimary(config: Config, workers: number, log: Logger): Promise<{ stop(): Promise<void> }> {
  const discovery = discoveryFor(config);
  checkUpstreams(config, discovery);
  const members = await newCluster(discovery);
  const registry = new Registry();
  controlMetrics(members, registry);
  const aggregator = new AggregatorRegistry();
  const states = (): MemberState[] =>
    members.active().map((m) => ({ slot: m.slot, url: m.url, retired: m.retired, healthy: m.healthy, reason: m.reason }));
  const send = (w: Worker, msg: ToWorker) => w.isConnected() && w.send(msg);
  const all = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  members.on("ring", () => all().forEach((w) => send(w, { t: "members", members: states() })));
  const ledger = newLedger(config);
  ledger.onForget = (group) => all().forEach((w) => send(w, { t: "unfollow", group }));

  // The handover's gate spans the workers: a move waits until every serving worker holds the
  // pushes of its groups. A live worker acknowledges within the upstream timeout (its pushes in
  // flight end by then), so one that takes longer is hung and the move goes on without it; a
  // worker that exits releases its acknowledgements at once.
  const ackTimeoutMs = config.limits.upstreamTimeoutMs + 1000;
  let nextId = 0;
  const serving = new Set<Worker>(); // said hello: it has its message handler and may serve pushes
  const acks = new Map<Worker, Map<number, () => void>>(); // worker → move id → its acknowledgement
  const acknowledged = (w: Worker, id: number, keys: string[]) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        log.warn(
          { worker: w.process.pid, timeout_ms: ackTimeoutMs },
          "a worker did not acknowledge the handover's hold on pushes in time; moving without it",
        );
        done();
      }, ackTimeoutMs);
      const done = () => {
        clearTimeout(timer);
        acks.get(w)?.delete(id);
        resolve();
      };
      const mine = acks.get(w) ?? new Map<number, () => void>();
      acks.set(w, mine.set(id, done));
      send(w, { t: "gate-close", id, keys });
    });
  const gate = {
    async close(keys: Iterable<string>) {
      const id = ++nextId;
      const list = [...keys];
      const targets = [...serving];
      await Promise.all(targets.map((w) => acknowledged(w, id, list)));
      return () => targets.forEach((w) => send(w, { t: "gate-open", id }));
    },
  };

  let stopping = false;
  const fork = () => cluster.fork({ DYSHARD_WORKER: "1" });
  cluster.on("message", (w: Worker, msg: ToPrimary) => {
    if (msg.t === "hello") {
      serving.add(w);
      send(w, { t: "members", members: states() });
      if (ledger.size > 0) send(w, { t: "follow", groups: ledger.groups() });
    } else if (msg.t === "unacked") {
      const followed = ledger.has(msg.group);
      ledger.unacknowledged(msg.group, msg.slot, msg.at);
      if (!followed) all().forEach((o) => o !== w && send(o, { t: "follow", groups: [msg.group] }));
    } else if (msg.t === "acked") ledger.acknowledged(msg.group, msg.slot, msg.at);
    else if (msg.t === "deleted") control.handover.countPushDelete();
    else if (msg.t === "down") {
      if (members.members[msg.slot]?.url === msg.url) members.setHealth(msg.slot, false, msg.reason);
    } else if (msg.t === "gate-closed") acks.get(w)?.get(msg.id)?.();
    else if (msg.t === "rebalance") {
      control.handover.run({ dryRun: msg.dryRun }).then(
        (value) => send(w, { t: "reply", id: msg.id, ok: true, value }),
        (err: Error) => send(w, { t: "reply", id: msg.id, ok: false, value: err.message }),
      );
    } else if (msg.t === "metrics") {
      Promise.all([aggregator.clusterMetrics(), registry.metrics()]).then(
        ([workersText, ownText]) => send(w, { t: "reply", id: msg.id, ok: true, value: workersText + ownText }),
        (err: Error) => send(w, { t: "reply", id: msg.id, ok: false, value: err.message }),
      );
    }
  });
  cluster.on("exit", (w, code, signal) => {
    serving.delete(w);
    [...(acks.get(w)?.values() ?? [])].forEach((done) => done()); // it holds no push any more
    acks.delete(w);
    if (stopping) return;
    log.error({ worker: w.process.pid, code, signal }, "worker died; starting another");
    fork();
  });

  const control = await startControl(config, members, registry, log, config.listen.port, gate, ledger, discovery);
  for (let i = 0; i < workers; i++) fork();
  log.info(
    {
      listen: `${config.listen.host}:${config.listen.port}`,
      workers,
      mode: config.mode,
      engine: config.engine,
      upstreams: members.active().map((m) => `${m.slot}=${m.url}`),
    },
    "dyshard listening",
  );

  return {
    async stop() {
      stopping = true;
      // Side by side, so that the workers' drain and the handover's stop fit in one --shutdown-timeout.
      const controlStopped = control.stop();
      await Promise.all(
        all().map(
          (w) =>
            new Promise<void>((resolve) => {
              w.once("exit", () => resolve());
              w.process.kill("SIGTERM");
            }),
        ),
      );
      await controlStopped;
      log.info("dyshard stopped");
    },
  };
}

/** A worker: serves pushes on the primary's membership. */
export async function startWorker(config: Config, log: Logger): Promise<{ stop(): Promise<void> }> {
  const members = await newCluster(discoveryFor(config)); // filled in by the primary, never read from the source
  const metrics = dataMetrics(members);
  new AggregatorRegistry(); // answers the primary's requests for this worker's metrics
  AggregatorRegistry.setRegistries([metrics.registry]);
  const gate = new GroupGate();
  const outcomes = new WorkerOutcomes((msg) => process.send?.(msg satisfies ToPrimary));
  const reopen = new Map<number, () => void>();
  const openedEarly = new Set<number>(); // reopened before this worker held them: the primary gave up waiting
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 0;
  const ask = <T>(msg: { t: "rebalance"; dryRun: boolean } | { t: "metrics" }): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      process.send?.({ ...msg, id });
    });

  let first!: () => void;
  const ready = new Promise<void>((r) => (first = r));
  process.on("message", (msg: ToWorker) => {
    if (msg.t === "members") {
      mirror(members, msg.members);
      first();
    } else if (msg.t === "gate-close") {
      void gate.close(msg.keys).then((open) => {
        if (openedEarly.delete(msg.id)) return open();
        reopen.set(msg.id, open);
        process.send?.({ t: "gate-closed", id: msg.id } satisfies ToPrimary);
      });
    } else if (msg.t === "gate-open") {
      const open = reopen.get(msg.id);
      if (open) open();
      else openedEarly.add(msg.id);
      reopen.delete(msg.id);
    } else if (msg.t === "follow") outcomes.follow(msg.groups);
    else if (msg.t === "unfollow") outcomes.unfollow(msg.group);
    else if (msg.t === "reply") {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.ok) p?.resolve(msg.value);
      else p?.reject(new Error(String(msg.value)));
    }
  });
  // A refused connection seen here: off this worker's ring now, and the primary decides for all.
  members.on("change", ({ member, healthy, reason }) => {
    if (!healthy && !member.reachable) process.send?.({ t: "down", slot: member.slot, url: member.url, reason } satisfies ToPrimary);
  });
  process.send?.({ t: "hello" } satisfies ToPrimary);
  await ready;

  const client = new PushgatewayClient({
    timeoutMs: config.limits.upstreamTimeoutMs,
    maxInventoryBytes: config.handover.maxInventoryBytes,
  });
  const recent = new RecentOwners(members, client, config.handover.recentWindowMs, log, () =>
    process.send?.({ t: "deleted" } satisfies ToPrimary),
  );
  const data = await startDataPlane(
    config,
    members,
    metrics,
    log,
    { gate, outcomes, afterPush: (k, m, t) => recent.afterPush(k, m, t) },
    {
      rebalance: (dryRun) => ask<RunReport>({ t: "rebalance", dryRun }),
      metrics: async () => ({ contentType: metrics.registry.contentType, text: await ask<string>({ t: "metrics" }) }),
    },
  );
  return {
    async stop() {
      await data.stop();
      await client.close();
    },
  };
}

/** Takes the primary's view: its health verdict as discovery's, and this worker's own reset. */
function mirror(members: Cluster, states: MemberState[]): void {
  const specs: MemberSpec[] = states.map((s) => ({
    slot: s.slot,
    url: s.url,
    retired: s.retired,
    discovered: s.healthy,
    discoveryReason: s.reason,
  }));
  members.update(specs);
  for (const m of members.active()) if (!m.reachable) members.setHealth(m.slot, true, "the primary's view");
}
