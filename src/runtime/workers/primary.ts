// `--workers N`: the primary runs the control plane (health checks, discovery, handover) and N
// worker processes (node:cluster) serve pushes on the shared port. Every worker routes on the
// primary's membership, sent to it on every change, so all agree on one ring; a worker that sees
// a refused connection takes the member off its own ring at once and tells the primary. /metrics
// and POST /-/dyshard/rebalance, answered by any worker, are the primary's to compute.
import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, Registry } from "prom-client";
import { loadGuards } from "../../auth/guards.js";
import type { Config } from "../../config/schema.js";
import type { Logger } from "../../core/logger.js";
import { UnavailableError } from "../../core/unavailable-error.js";
import { discoveryFor } from "../../discovery/providers.js";
import { connectionLimit } from "../../http/max-connections.js";
import type { MoveGate } from "../../handover/gate.js";
import type { PushLedger } from "../../handover/push-ledger.js";
import type { Membership } from "../../membership/membership.js";
import { controlMetrics } from "../../metrics/catalogue.js";
import { checkUpstreams, newLedger, newMembership, startControl, upstreamAccess, type ControlPlane } from "../control-plane.js";
import { PendingReplies, ReplyTimeoutError } from "./pending-replies.js";
import { isProtocolMessage, type MemberState, type ToPrimary, type ToWorker } from "./protocol.js";

/** A worker as the primary follows it: its gate acknowledgements wait in `replies`. */
interface Serving {
  worker: Worker;
  replies: PendingReplies;
}

export async function startPrimary(config: Config, workers: number, log: Logger): Promise<{ reload(): void; stop(): Promise<void> }> {
  const access = upstreamAccess(config, log);
  const discovery = discoveryFor(config, access);
  checkUpstreams(config, discovery);
  loadGuards(config.auth); // each worker reads the auth files itself; a bad one stops start-up here, before any fork
  const membership = await newMembership(discovery);
  const registry = new Registry();
  controlMetrics(membership, registry);
  const aggregator = new AggregatorRegistry();
  const send = (w: Worker, msg: ToWorker) => w.isConnected() && w.send(msg);
  const all = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  const toAll = (msg: ToWorker, except?: Worker) => all().forEach((w) => w !== except && send(w, msg));
  membership.on("ring", () => toAll({ type: "dyshard:members", members: states(membership) }));
  const ledger = newLedger(config);
  ledger.onForget = (group) => toAll({ type: "dyshard:unfollow", group });

  const serving = new Map<Worker, Serving>(); // said hello: it has its message handler and may serve pushes
  const gate = spanningGate(serving, config.limits.upstreamTimeoutMs + 1000, send, log);

  let control: ControlPlane | undefined;
  const starting = () => Promise.reject(new UnavailableError("dyshard is still starting; try again in a moment"));
  const answer = (w: Worker, id: number, work: () => Promise<unknown>) =>
    work().then(
      (value) => send(w, { type: "dyshard:reply", id, ok: true, value }),
      (err: Error) => send(w, { type: "dyshard:reply", id, ok: false, error: err.message, unavailable: err instanceof UnavailableError }),
    );
  const onMessage = (w: Worker, msg: ToPrimary) => {
    switch (msg.type) {
      case "dyshard:hello":
        serving.set(w, { worker: w, replies: new PendingReplies() });
        send(w, { type: "dyshard:members", members: states(membership) });
        if (ledger.size > 0) send(w, { type: "dyshard:follow", groups: ledger.groups() });
        return;
      case "dyshard:unacked":
        return unacknowledged(ledger, msg, (group) => toAll({ type: "dyshard:follow", groups: [group] }, w));
      case "dyshard:acked":
        return ledger.acknowledged(msg.group, msg.slot, msg.at);
      case "dyshard:deleted":
        return control?.handover.countPushDelete();
      case "dyshard:down":
        if (membership.members[msg.slot]?.url === msg.url) membership.setHealth(msg.slot, false, msg.reason);
        return;
      case "dyshard:reply":
        return settle(serving.get(w)?.replies, msg);
      case "dyshard:rebalance":
        return void answer(w, msg.id, () => (control ? control.handover.run({ dryRun: msg.dryRun }) : starting()));
      case "dyshard:metrics":
        return void answer(w, msg.id, async () => (await aggregator.clusterMetrics()) + (await registry.metrics()));
      case "dyshard:scrape":
        return void answer(w, msg.id, async () => control?.scrape() ?? null);
      case "dyshard:status":
        return void answer(w, msg.id, () => (control ? Promise.resolve(control.status()) : starting()));
    }
  };
  cluster.on("message", (w: Worker, msg: unknown) => {
    if (isProtocolMessage<ToPrimary>(msg)) onMessage(w, msg);
  });

  let stopping = false;
  const fork = () => cluster.fork({ DYSHARD_WORKER: "1" });
  cluster.on("exit", (w, code, signal) => {
    serving.get(w)?.replies.closeAll(new WorkerGoneError()); // it holds no push any more
    serving.delete(w);
    if (stopping) return;
    log.error({ worker: w.process.pid, code, signal }, "worker died; starting another");
    fork();
  });

  control = await startControl({ config, membership, registry, log, boundPort: config.listen.port, gate, ledger, discovery, access });
  for (let i = 0; i < workers; i++) fork();
  log.info(
    {
      listen: `${config.listen.host}:${config.listen.port}`,
      workers,
      max_connections_per_worker: connectionLimit(config.limits.maxConnections, workers),
      mode: config.mode,
      engine: config.engine,
      upstreams: membership.active().map((m) => `${m.slot}=${m.url}`),
    },
    "dyshard listening",
  );

  const started = control;
  return {
    /** SIGHUP: every worker reads --tls-cert and --tls-key again (the primary serves nothing itself). */
    reload: () => toAll({ type: "dyshard:reload-tls" }),
    async stop() {
      stopping = true;
      // Side by side, so that the workers' drain and the handover's stop fit in one --shutdown-timeout.
      const controlStopped = started.stop();
      await Promise.all(all().map((w) => new Promise<void>((resolve) => (w.once("exit", () => resolve()), w.process.kill("SIGTERM")))));
      await controlStopped;
      log.info("dyshard stopped");
    },
  };
}

function states(membership: Membership): MemberState[] {
  return membership.active().map((m) => ({ slot: m.slot, url: m.url, retired: m.retired, healthy: m.healthy, reason: m.reason }));
}

function settle(replies: PendingReplies | undefined, msg: Extract<ToPrimary, { type: "dyshard:reply" }>): void {
  if (msg.ok) replies?.resolve(msg.id, msg.value);
  else replies?.reject(msg.id, new Error(msg.error));
}

/** A worker's unacknowledged push: into the ledger, and the other workers follow its group from now on. */
function unacknowledged(
  ledger: PushLedger,
  msg: { group: string; slot: number; at: number },
  followElsewhere: (group: string) => void,
): void {
  const followed = ledger.has(msg.group);
  ledger.unacknowledged(msg.group, msg.slot, msg.at);
  if (!followed) followElsewhere(msg.group);
}

class WorkerGoneError extends Error {
  override readonly name = "WorkerGoneError";
}

/**
 * The handover's gate across the workers: a move waits until every serving worker holds the
 * pushes of its groups. A live worker acknowledges within the upstream timeout (its pushes in
 * flight end by then), so one that takes longer is hung and the move goes on without it; a worker
 * that exits releases its acknowledgements at once.
 */
function spanningGate(
  serving: Map<Worker, Serving>,
  ackTimeoutMs: number,
  send: (w: Worker, msg: ToWorker) => unknown,
  log: Logger,
): MoveGate {
  const held = async ({ worker, replies }: Serving, keys: string[]): Promise<number | undefined> => {
    let id: number | undefined;
    await replies
      .request(ackTimeoutMs, "gate-close", (i) => send(worker, { type: "dyshard:gate-close", id: (id = i), keys }))
      .catch((err: unknown) => {
        if (err instanceof ReplyTimeoutError)
          log.warn(
            { worker: worker.process.pid, timeout_ms: ackTimeoutMs },
            "a worker did not acknowledge the handover's hold on pushes in time; moving without it",
          );
        else if (!(err instanceof WorkerGoneError)) throw err;
      });
    return id;
  };
  return {
    async close(keys: Iterable<string>) {
      const list = [...keys];
      const targets = [...serving.values()];
      const ids = await Promise.all(targets.map((s) => held(s, list)));
      return () => targets.forEach((s, i) => send(s.worker, { type: "dyshard:gate-open", id: ids[i] as number }));
    },
  };
}
