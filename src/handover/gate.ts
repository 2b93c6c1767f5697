// Holds pushes of a group while the handover moves it, so that a push reaching this dyshard during
// a move always ends up as the newest value on the owner: the move waits for pushes already in
// flight, and pushes that arrive meanwhile wait for the move.
//
// Cheap when nothing is being moved, because it is on every push's path: a push only counts itself
// into the current batch (no per-group bookkeeping). A move closes its groups and then waits for
// every push that entered before, of any group; pushes take milliseconds, so waiting for the
// others as well costs a move next to nothing.

/** What a move needs of a gate: in one process a GroupGate, with --workers one that spans them. */
export interface MoveGate {
  close(keys: Iterable<string>): Promise<() => void>;
}

/** The pushes that entered between two closes. */
export interface Batch {
  inflight: number;
  drained?: Promise<void>;
  resolve?: () => void;
}

export class GroupGate implements MoveGate {
  private current: Batch = { inflight: 0 };
  /** Batches from before the last close with pushes still in flight. */
  private readonly older = new Set<Batch>();
  private readonly closed = new Map<string, Promise<void>>();

  /** Before forwarding a push: its batch, at once unless its group is being moved. Pass it to leave(). */
  enter(key: string): Batch | Promise<Batch> {
    const wait = this.closed.size === 0 ? undefined : this.closed.get(key);
    if (wait) return wait.then(() => this.enter(key));
    this.current.inflight++;
    return this.current;
  }

  /** After the push was answered. */
  leave(batch: Batch): void {
    if (--batch.inflight > 0 || batch === this.current) return;
    this.older.delete(batch);
    batch.resolve?.();
  }

  /** Closes the gate of each key once the pushes in flight are answered; returns reopen(). */
  async close(keys: Iterable<string>): Promise<() => void> {
    const opens: (() => void)[] = [];
    for (const key of new Set(keys)) {
      if (this.closed.has(key)) continue; // already held by another move
      let open!: () => void;
      this.closed.set(key, new Promise<void>((r) => (open = r)));
      opens.push(() => {
        this.closed.delete(key);
        open();
      });
    }
    const before = this.current;
    this.current = { inflight: 0 };
    if (before.inflight > 0) this.older.add(before);
    await Promise.all([...this.older].map((b) => (b.drained ??= new Promise<void>((r) => (b.resolve = r)))));
    return () => opens.forEach((o) => o());
  }
}
