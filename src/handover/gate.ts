// Holds pushes of a group while the handover moves it, so that a push reaching this dyshard during
// a move always ends up as the newest value on the owner: the move waits for pushes already in
// flight, and pushes that arrive meanwhile wait for the move. Cheap when nothing is being moved.

/** What a move needs of a gate: in one process a GroupGate, with --workers one that spans them. */
export interface MoveGate {
  close(keys: Iterable<string>): Promise<() => void>;
}

export class GroupGate implements MoveGate {
  private readonly inflight = new Map<string, number>();
  private readonly closed = new Map<string, Promise<void>>();
  private readonly drained = new Map<string, () => void>();

  /** Before forwarding a push: undefined at once when its group is not being moved, else a wait. */
  enter(key: string): Promise<void> | undefined {
    const wait = this.closed.get(key);
    if (wait) return wait.then(() => this.enter(key));
    this.inflight.set(key, (this.inflight.get(key) ?? 0) + 1);
    return undefined;
  }

  /** After the push was answered. */
  leave(key: string): void {
    const n = (this.inflight.get(key) ?? 1) - 1;
    if (n > 0) return void this.inflight.set(key, n);
    this.inflight.delete(key);
    this.drained.get(key)?.();
  }

  /** Closes the gate of each key once the pushes in flight for it are answered; returns reopen(). */
  async close(keys: Iterable<string>): Promise<() => void> {
    const opens: (() => void)[] = [];
    const waits: Promise<void>[] = [];
    for (const key of new Set(keys)) {
      if (this.closed.has(key)) continue; // already held by another move
      let open!: () => void;
      this.closed.set(key, new Promise<void>((r) => (open = r)));
      opens.push(() => {
        this.closed.delete(key);
        open();
      });
      if (this.inflight.has(key)) waits.push(new Promise<void>((r) => this.drained.set(key, r)).then(() => void this.drained.delete(key)));
    }
    await Promise.all(waits);
    return () => opens.forEach((o) => o());
  }
}
