// A lock in Consul's KV store, so that only one dyshard at a time runs a job (the handover) when
// several share a Consul. It follows Consul's leader-election recipe: a TTL session, renewed in
// the background, acquires a key. If the holder dies, its session expires and Consul frees the
// key ("release" behaviour); another dyshard can take it once the session's lock-delay has passed.
//
// Every Consul call is made here and every failure is caught: callers only see true/false.
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { ConsulClient } from "../discovery/consul/consul-client.js";
import { errorText } from "../core/errors.js";
import type { HandoverLock } from "./handover-lock.js";

/** Consul refuses the key to everyone this long after a holder's session is invalidated. */
export const LOCK_DELAY_MS = 1000;

export interface ConsulLockOptions {
  /** The KV key to lock, e.g. "dyshard/handover". */
  key: string;
  /** Session TTL, renewed every ttlMs / 2 (default 15s; real Consul accepts 10s..24h). */
  ttlMs?: number;
  /** Session name, e.g. "dyshard handover dyshard-1:9091"; also written into the key's value. */
  name: string;
}

export class ConsulLock implements HandoverLock {
  private readonly ttlMs: number;
  private readonly requestTimeoutMs: number;
  private session: string | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private renewing = false;
  private acquired = false;
  /** When the session was last proven alive: the send time of the create/renew/acquire that succeeded. */
  private confirmedAt = 0;
  /** tryAcquire and release run one at a time, so concurrent calls never create two sessions. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly consul: ConsulClient,
    private readonly opts: ConsulLockOptions,
    private readonly log: Logger,
  ) {
    this.ttlMs = opts.ttlMs ?? 15_000;
    // A Consul that hangs (rather than refuses) must not stall tryAcquire or pile up renewals.
    this.requestTimeoutMs = Math.max(1000, this.ttlMs / 3);
  }

  /**
   * Whether the last tryAcquire succeeded and the session is still believed alive. Consul keeps a
   * session at least TTL after it received a renewal, so counting TTL from when we *sent* the last
   * successful one makes this turn false before Consul can hand the lock to anyone else.
   */
  get held(): boolean {
    return this.acquired && this.session !== undefined && Date.now() - this.confirmedAt < this.ttlMs;
  }

  /** Takes (or keeps) the lock; true while this lock holds it. Never throws: Consul errors give false. */
  tryAcquire(): Promise<boolean> {
    return this.serial(() => this.acquire());
  }

  /** Frees the key and destroys the session. Safe when not held; never throws. */
  release(): Promise<void> {
    return this.serial(() => this.releaseNow());
  }

  /** The current holder's value (JSON naming it) if the key is locked, else undefined (also on errors). */
  async holder(): Promise<string | undefined> {
    try {
      const entry = (await this.consul.kv.get(this.req({ key: this.opts.key }))) as { Session?: string; Value?: string | null } | undefined;
      return entry?.Session ? (entry.Value ?? "") : undefined;
    } catch (err) {
      this.log.warn({ err: errorText(err), key: this.opts.key }, "Could not read the Consul lock's holder");
      return undefined;
    }
  }

  private async acquire(): Promise<boolean> {
    const sentAt = Date.now();
    let session = this.session;
    try {
      session ??= await this.createSession();
      const value = JSON.stringify({ name: this.opts.name, host: hostname(), pid: process.pid });
      // node-consul resolves undefined, not false, when Consul answers false.
      const ok = (await this.consul.kv.set(this.req({ key: this.opts.key, value, acquire: session }))) === true;
      // A renewal may have found the session gone while the acquire was out.
      if (this.session !== session) return (this.acquired = false);
      if (ok) this.confirmedAt = sentAt;
      if (ok && !this.acquired) this.log.info({ key: this.opts.key, session }, "Acquired the Consul lock");
      this.acquired = ok;
      return ok;
    } catch (err) {
      this.acquired = false;
      // Consul answers 500 "invalid session" when the session expired before a renewal noticed:
      // forget it so the next attempt starts a new one.
      if (session !== undefined && session === this.session && /invalid session/i.test(errorText(err))) this.forget();
      this.log.warn({ err: errorText(err), key: this.opts.key }, "Could not acquire the Consul lock");
      return false;
    }
  }

  private async createSession(): Promise<string> {
    const sentAt = Date.now();
    const { ID } = await this.consul.session.create(
      this.req({ name: this.opts.name, ttl: `${this.ttlMs / 1000}s`, behavior: "release" as const, lockdelay: `${LOCK_DELAY_MS / 1000}s` }),
    );
    this.session = ID;
    this.confirmedAt = sentAt;
    this.renewTimer = setInterval(() => void this.renew(ID), this.ttlMs / 2);
    this.renewTimer.unref();
    return ID;
  }

  private async renew(id: string): Promise<void> {
    if (this.renewing) return; // the previous renewal is still out (it times out before the TTL)
    this.renewing = true;
    const sentAt = Date.now();
    try {
      await this.consul.session.renew(this.req({ id }));
      if (this.session === id) this.confirmedAt = sentAt;
    } catch (err) {
      if (this.session !== id) return; // released or replaced meanwhile
      if ((err as { statusCode?: number }).statusCode === 404) {
        this.log.warn(
          { key: this.opts.key, session: id, was_held: this.acquired },
          "Consul lock session is gone (expired or destroyed); the next attempt starts a new one",
        );
        this.forget();
      } else {
        this.log.warn({ err: errorText(err), key: this.opts.key, session: id }, "Could not renew the Consul lock session; retrying");
      }
    } finally {
      this.renewing = false;
    }
  }

  private async releaseNow(): Promise<void> {
    const id = this.session;
    if (id === undefined) return;
    this.forget();
    // Release even when we do not believe we hold it: an acquire whose answer was lost may have won.
    // An explicit release frees the key at once; destroying the session alone would also free it,
    // but only after Consul's lock-delay.
    try {
      await this.consul.kv.set(this.req({ key: this.opts.key, value: "", release: id }));
    } catch (err) {
      this.log.warn({ err: errorText(err), key: this.opts.key }, "Could not release the Consul lock; destroying its session instead");
    }
    try {
      await this.consul.session.destroy(this.req({ id }));
      this.log.info({ key: this.opts.key, session: id }, "Released the Consul lock");
    } catch (err) {
      // Not renewed any more, so Consul drops it (and any lock it still holds) after its TTL.
      this.log.warn({ err: errorText(err), key: this.opts.key, session: id }, "Could not destroy the Consul lock session; it will expire");
    }
  }

  private forget(): void {
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
    this.session = undefined;
    this.acquired = false;
  }

  /** Adds the per-request timeout (a node-consul option its typings omit). */
  private req<T extends object>(o: T): T {
    return { ...o, timeout: this.requestTimeoutMs };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
