// The objects in progress on the push path (exchanges with an upstream, body reads), kept in an
// array: each member carries its index, so adding and removing are O(1) and allocate nothing.
//
// Why not a Set: a JS Set or Map that gains and loses an entry on every push rehashes into a new
// table every few dozen pushes, and V8 keeps a link from each obsolete table to the one that
// replaced it (for iterators still walking it). Once one obsolete table has been promoted to the
// old generation, it keeps every later table alive, and with them every push they ever held,
// until the next full GC: each scavenge then promotes all in-flight pushes, and Mark-Compacts
// follow every few seconds (bench/README.md, "The GC pattern: cause and cure").

/** A member of at most one roster at a time: its place there, -1 on none. */
export interface Rostered {
  rosterIndex: number;
}

export class Roster<T extends Rostered> {
  private readonly members: T[] = [];

  get size(): number {
    return this.members.length;
  }

  add(m: T): void {
    if (m.rosterIndex >= 0) return;
    m.rosterIndex = this.members.length;
    this.members.push(m);
  }

  /** Removes `m` (the last member takes its place); false when it was not on this roster. */
  delete(m: T): boolean {
    const i = m.rosterIndex;
    if (i < 0 || this.members[i] !== m) return false;
    const last = this.members.pop() as T;
    if (last !== m) {
      this.members[i] = last;
      last.rosterIndex = i;
    }
    m.rosterIndex = -1;
    return true;
  }

  /** The members now, as a copy: whoever walks it may remove members meanwhile. */
  snapshot(): T[] {
    return this.members.slice();
  }

  clear(): void {
    for (const m of this.members) m.rosterIndex = -1;
    this.members.length = 0;
  }
}
