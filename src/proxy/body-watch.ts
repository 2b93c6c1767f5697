// The client body timeout (--client-body-timeout, as nginx's client_body_timeout): the longest
// wait between two reads of a push body. One shared interval looks at every body read in progress
// instead of a timer per push (docs/ARCHITECTURE.md, hot path rules); a read only counts its bytes,
// and the interval notes when that count last moved. It runs while reads are in progress and
// stops at the first tick that finds none, so a steady flow of pushes does not start it each time.

import { Roster, type Rostered } from "../core/roster.js";

/** A body read in progress, as the watch sees it. */
export interface WatchedRead extends Rostered {
  /** Bytes read so far: the read's only work for the watch. */
  received: number;
  /** Paused by dyshard itself (a full disk or upstream buffer): the client is not the one waiting. */
  paused: boolean;
  /** The watch's notes: the count at its last look, and since when it has not moved. */
  seen: number;
  idleSince: number;
  /** Called once when the body stalled longer than the timeout; the read is off the watch by then. */
  expire(timeoutMs: number): void;
}

export class BodyWatch {
  private readonly reads = new Roster<WatchedRead>();
  private timer: NodeJS.Timeout | undefined;
  private readonly tickMs: number;

  /** `timeoutMs` 0: no timeout, nothing is watched. */
  constructor(readonly timeoutMs: number) {
    // A stall is seen between timeoutMs and timeoutMs + 2 ticks after the last read.
    this.tickMs = Math.max(5, Math.min(1000, timeoutMs / 8));
  }

  add(read: WatchedRead): void {
    if (this.timeoutMs === 0) return;
    read.seen = -1; // first look: starts the clock
    this.reads.add(read);
    this.timer ??= setInterval(() => this.sweep(), this.tickMs).unref();
  }

  delete(read: WatchedRead): void {
    this.reads.delete(read);
  }

  private sweep(): void {
    if (this.reads.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = performance.now();
    for (const r of this.reads.snapshot()) {
      if (r.received !== r.seen || r.paused) {
        r.seen = r.received;
        r.idleSince = now;
      } else if (now - r.idleSince >= this.timeoutMs) {
        this.reads.delete(r);
        r.expire(this.timeoutMs);
      }
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.reads.clear();
  }
}
