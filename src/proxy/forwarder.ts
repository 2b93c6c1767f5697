// Sends a push to its owner and relays the answer. The body is read first, held in memory or
// spooled to disk (src/proxy/body-reader.ts), and sent again to the next owner when its first owner
// refuses or drops the connection before answering (pushes are idempotent: PUT and POST replace,
// DELETE deletes), so a dying instance costs the client nothing. Only a body streamed because the
// spool was full cannot be sent again.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import type { Membership, Member } from "../membership/membership.js";
import { errorText } from "../core/errors.js";
import type { Metrics } from "../metrics/catalogue.js";
import { BodyTimeoutError, BodyTooLargeError, type BodyPlaces, type PushBody } from "./body.js";
import { readPushBody } from "./body-reader.js";
import { BodyWatch } from "./body-watch.js";
import { Budget } from "./budget.js";
import type { Spool } from "./spool.js";
import type { Engine } from "./engines/engine.js";
import { classifyAttempt } from "./attempt.js";
import { forwardableRawHeaders } from "./headers.js";
import { AnswerCapture } from "./answer-capture.js";
import { StandbyWriter } from "./standby-writer.js";
import { lingerAfter } from "./linger.js";
import { REPLICA_LABEL } from "../pushgateway/replica.js";
import type { Batch, GroupGate } from "../handover/gate.js";
import { ledgerKeyOf, type PushOutcomes } from "../handover/push-ledger.js";
import type { GroupingKey } from "../pushgateway/grouping-key.js";

/** The handover's hooks on the push path (see src/handover). */
export interface PushHooks {
  /** Holds a push while its group is being moved. */
  gate?: GroupGate;
  /** Called after a push was answered 2xx by its owner. */
  afterPush?(key: string, method: string, target: string): void;
  /** Told of pushes an upstream may apply without dyshard having acknowledged them, and of later acknowledgements. */
  outcomes?: PushOutcomes;
}

/** The group a push addresses, built only when needed (the router's common lane defers it). */
export interface PushTarget {
  key: string;
  readonly group: GroupingKey;
}

/** How a push ended: the upstream that answered ("none" when dyshard did) and the status. */
export interface Outcome {
  upstream: string;
  status: number;
}

export interface ForwarderOptions {
  retryBodyBytes: number;
  maxBodyBytes: number;
  /** 0: none. */
  clientBodyTimeoutMs: number;
  /** Enforced by the engine; named here for the 504 message. */
  upstreamTimeoutMs: number;
  /** Copies of every group (--replicas): the primary and replicas − 1 standby copies. */
  replicas?: number;
}

/** All held push bodies together stay under this; beyond it bodies are spooled. */
const HOLD_BUDGET_BYTES = 32 * 1024 * 1024;

export class Forwarder {
  private readonly places: BodyPlaces;
  private readonly standby: StandbyWriter | undefined;

  constructor(
    private readonly membership: Membership,
    private readonly engine: Engine,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly opts: ForwarderOptions,
    spool: Spool,
    private readonly hooks: PushHooks = {},
  ) {
    this.places = {
      holdBytes: opts.retryBodyBytes,
      maxBytes: opts.maxBodyBytes,
      memory: new Budget(HOLD_BUDGET_BYTES),
      spool,
      watch: new BodyWatch(opts.clientBodyTimeoutMs),
    };
    if ((opts.replicas ?? 1) > 1) this.standby = new StandbyWriter(engine, opts.upstreamTimeoutMs, metrics.replicaWrites, log);
  }

  /** Once the listener is closed: stops the body watch and deletes what is left in the spool. */
  async close(): Promise<void> {
    this.places.watch.stop();
    await this.places.spool.close();
  }

  /** Forwards the push; resolves to the upstream that answered ("none" when dyshard answered) and the status. */
  async forward(req: IncomingMessage, res: ServerResponse, push: PushTarget): Promise<Outcome> {
    const key = push.key;
    // One async frame for the whole push (each await costs a tick): gate, owner, body, send.
    const { gate, afterPush } = this.hooks;
    let batch: Batch | undefined;
    if (gate) {
      const entered = gate.enter(key);
      batch = entered instanceof Promise ? await entered : entered;
    }
    let body: PushBody | undefined;
    try {
      const ring = this.membership.ring;
      const owner = this.membership.owner(key); // before reading the body: with no owner, answer at once
      if (owner === undefined) return answer(res, 503, noHealthyUpstream(this.membership));
      if (this.standby && REPLICA_LABEL in push.group.labels) return answer(res, 400, RESERVED);
      try {
        body = await readPushBody(req, this.places);
      } catch (err) {
        if (err instanceof BodyTooLargeError) return answer(res, 413, err.message, true);
        if (err instanceof BodyTimeoutError) return answer(res, 408, err.message, true);
        if (res.destroyed || (err as { code?: string }).code === "ECONNABORTED") return { upstream: "none", status: 499 }; // the client went away
        throw err;
      }
      // Reading a large body takes a while: ask the ring again only if it changed meanwhile.
      const first = this.membership.ring === ring ? owner : this.membership.owner(key);
      const outcome = this.standby ? await this.replicated(req, res, push, body, first) : await this.send(req, res, push, body, first);
      if (afterPush && outcome.status >= 200 && outcome.status < 300) afterPush(key, req.method as string, req.url as string);
      return outcome;
    } finally {
      body?.release();
      if (batch) gate?.leave(batch);
    }
  }

  /**
   * --replicas: a held body's standby copies are written beside the primary's, and the client
   * hears the primary's answer, unchanged, once both are done; a body not held gets its standby
   * copies from the next sweep.
   */
  private async replicated(
    req: IncomingMessage,
    res: ServerResponse,
    push: PushTarget,
    body: PushBody,
    first: Member | undefined,
  ): Promise<Outcome> {
    const beside = this.besidePrimary(req, push, body, first);
    if (!beside) return this.send(req, res, push, body, first);
    const capture = new AnswerCapture(res);
    // The capture offers what send(), answer() and the engines use of a response.
    const [outcome] = await Promise.all([this.send(req, capture as unknown as ServerResponse, push, body, first), beside]);
    capture.replayInto(res);
    return outcome;
  }

  /** The standby writes that go beside the primary's (a DELETE: every other copy), if any. */
  private besidePrimary(req: IncomingMessage, push: PushTarget, body: PushBody, first: Member | undefined): Promise<void> | undefined {
    const standby = this.standby as StandbyWriter;
    if (req.method === "DELETE")
      return standby.deleteCopies(
        this.membership.active().filter((m) => m.healthy),
        first?.slot,
        push.group,
      );
    const slots = this.membership.ring.owners(push.key, this.opts.replicas ?? 1).slice(1);
    if (slots.length === 0) return undefined;
    if (body.kind !== "held") return void standby.skipped(slots.length);
    const standbys = slots.map((slot) => this.membership.members[slot] as Member);
    return standby.write(standbys, push.group, req.method as string, req.rawHeaders, body.bytes);
  }

  private async send(
    req: IncomingMessage,
    res: ServerResponse,
    push: PushTarget,
    body: PushBody,
    first: Member | undefined,
  ): Promise<Outcome> {
    const key = push.key;
    const headers = forwardableRawHeaders(req.rawHeaders);
    const outcomes = this.hooks.outcomes;
    // A chunked body, complete on disk, goes on with its length (the engines frame it by that).
    if (body.kind === "spooled" && !body.declared) headers.push("content-length", String(body.size));
    for (let attempt = 0; ; attempt++) {
      // The first owner was found before the body was read; a retry asks the ring again.
      const owner = attempt === 0 ? first : this.membership.owner(key);
      if (owner === undefined) return answer(res, 503, noHealthyUpstream(this.membership));
      const payload = body.kind === "held" ? body.bytes : body.kind === "spooled" ? body.open() : body.stream;
      const result = await this.engine.forward(
        owner.url,
        { method: req.method as string, target: req.url as string, headers, body: payload },
        res,
      );
      if (body.kind === "spooled") (payload as Readable).destroy(); // this attempt's file handle
      const verdict = classifyAttempt(result, {
        clientGone: res.destroyed,
        streamed: body.kind === "streamed",
        ownersLeft: this.membership.active().length - attempt - 1,
      });
      if (verdict.kind === "relayed") {
        if (verdict.acknowledged && outcomes && outcomes.size > 0) outcomes.acknowledged(ledgerKeyOf(push.group), owner.slot, Date.now());
        return { upstream: owner.url, status: verdict.status };
      }
      if (verdict.kind === "refuse-body") return answer(res, verdict.status, verdict.message, true);
      if (outcomes && verdict.unacknowledged) outcomes.unacknowledged(ledgerKeyOf(push.group), owner.slot, Date.now());
      const error = (result as { error: unknown }).error;
      if (verdict.kind === "client-gone") return { upstream: owner.url, status: 499 };
      if (verdict.kind === "timeout")
        return answer(res, 504, `upstream ${owner.url} did not answer within ${this.opts.upstreamTimeoutMs}ms`, false, owner.url);
      if (verdict.kind === "failed") {
        this.log.warn({ upstream: owner.url, err: errorText(error) }, "upstream request failed");
        return answer(res, 502, `upstream ${owner.url} failed: ${errorText(error)}`, false, owner.url);
      }
      // Passive detection: take the owner off the ring now; the active checks bring it back.
      this.membership.setHealth(owner.slot, false, `connection failed: ${errorText(error)}`);
      if (!verdict.retry) {
        return answer(
          res,
          502,
          `upstream ${owner.url} failed: ${errorText(error)}${verdict.why === "streamed" ? " (body streamed, no room in the spool: not retried)" : ""}`,
          false,
          owner.url,
        );
      }
      this.metrics.retries.inc({ upstream: owner.url });
    }
  }
}

/** A client may not push the label that marks standby copies. */
const RESERVED = `the grouping label name ${REPLICA_LABEL} is reserved: dyshard marks its standby copies with it (--replicas)`;

export function noHealthyUpstream(membership: Membership): string {
  return `no healthy upstream: all ${membership.active().length} Pushgateways are down`;
}

/** Answers a push with dyshard's own plain-text message. */
export function answer(res: ServerResponse, status: number, message: string, close = false, upstream = "none"): Outcome {
  if (!res.headersSent) {
    const headers: Record<string, string> = { "content-type": "text/plain; charset=utf-8" };
    if (close) {
      headers.connection = "close"; // the rest of an unread body cannot be skipped cheaply
      lingerAfter(res);
    }
    res.writeHead(status, headers).end(message + "\n");
  } else {
    res.destroy();
  }
  return { upstream, status };
}
