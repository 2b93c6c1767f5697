// What dyshard knows that push_time_seconds does not: which pushes it could not acknowledge.
//
// A Pushgateway stamps push_time_seconds when it *processes* a request. One that hung (SIGSTOP,
// a long pause) and resumes applies the requests still in its socket buffers, pushes dyshard
// answered 504 long ago, with a newer push_time than the pushes that failed over elsewhere and
// were answered 200. "Newest push_time wins" would then keep the value nobody was promised. The
// ledger remembers, per group, the slots that may apply a push late and where the last
// acknowledged push went after that, so the handover keeps the acknowledged copy.
//
// Pure bookkeeping, no I/O and no clock of its own (callers pass the time). Empty, and never
// consulted, while no push has failed: the push path asks `size` first.

import { routingKey, type GroupingKey } from "../pushgateway/grouping-key.js";

/** The ledger follows each group by its routing key under shard-by group, whatever --shard-by says. */
export function ledgerKeyOf(group: GroupingKey): string {
  return routingKey(group, "group");
}

/** What the push path tells the ledger (here, or in the primary with --workers). */
export interface PushOutcomes {
  /** Groups followed; 0 means acknowledgements need not be reported. */
  readonly size: number;
  /** A push whose outcome is unknown: sent to `slot`, not answered (it may be applied later). */
  unacknowledged(group: string, slot: number, at: number): void;
  /** A push `slot` answered 2xx. */
  acknowledged(group: string, slot: number, at: number): void;
}

interface Entry {
  /** Slot → when the last push it did not acknowledge was sent. */
  unacked: Map<number, number>;
  lastAck?: { slot: number; at: number };
  touched: number;
}

export interface LedgerOptions {
  /** An entry none of whose doubtful slots is down is forgotten this long after its last change. */
  keepMs: number;
  /** At most this many groups are followed; the oldest go first. */
  maxGroups: number;
}

export class PushLedger implements PushOutcomes {
  private readonly entries = new Map<string, Entry>();
  /** Told when a group is no longer followed (with --workers, so workers stop reporting it). */
  onForget: (group: string) => void = () => {};

  constructor(private readonly opts: LedgerOptions) {}

  get size(): number {
    return this.entries.size;
  }

  unacknowledged(group: string, slot: number, at: number): void {
    let e = this.entries.get(group);
    if (e)
      this.entries.delete(group); // re-inserted: Map order stays oldest-touched first
    else e = { unacked: new Map(), touched: at };
    e.unacked.set(slot, at);
    e.touched = at;
    this.entries.set(group, e);
    this.trim();
  }

  acknowledged(group: string, slot: number, at: number): void {
    const e = this.entries.get(group);
    if (!e) return;
    // The slot answered after its doubtful push was sent: what it holds now is at least that new.
    e.unacked.delete(slot);
    if (e.unacked.size === 0) return this.forget(group);
    e.lastAck = { slot, at };
    e.touched = at;
  }

  /**
   * The slot whose copy of the group must win whatever the push times say: where the last
   * acknowledged push went, when some other slot may have applied an earlier unacknowledged push
   * late. Undefined when push times can be trusted.
   */
  authority(group: string): number | undefined {
    const e = this.entries.get(group);
    const ack = e?.lastAck;
    if (!e || !ack) return undefined;
    for (const [slot, sent] of e.unacked) if (slot !== ack.slot && sent <= ack.at) return ack.slot;
    return undefined;
  }

  /** The handover made the acknowledged copy the only one. */
  resolved(group: string): void {
    if (this.entries.has(group)) this.forget(group);
  }

  /** Forgets entries untouched for keepMs, unless a slot that may still apply a push late is down. */
  expire(now: number, isDown: (slot: number) => boolean): void {
    for (const [group, e] of this.entries) {
      if (now - e.touched < this.opts.keepMs) continue;
      if ([...e.unacked.keys()].some(isDown)) continue;
      this.forget(group);
    }
  }

  has(group: string): boolean {
    return this.entries.has(group);
  }

  /** The groups followed now (for a worker that starts late). */
  groups(): string[] {
    return [...this.entries.keys()];
  }

  private trim(): void {
    while (this.entries.size > this.opts.maxGroups) this.forget(this.entries.keys().next().value as string);
  }

  private forget(group: string): void {
    this.entries.delete(group);
    this.onForget(group);
  }
}
