// A worker's side of the push ledger (--workers): the ledger lives in the primary, beside the
// handover that reads it. A worker reports every push it could not acknowledge, and the
// acknowledgements of the groups the primary says it follows (so that nothing is sent while no
// push has failed).
import type { PushOutcomes } from "../../handover/push-ledger.js";
import type { OutcomeReport } from "./protocol.js";

export class WorkerOutcomes implements PushOutcomes {
  private readonly followed = new Set<string>();

  constructor(private readonly report: (msg: OutcomeReport) => void) {}

  get size(): number {
    return this.followed.size;
  }

  unacknowledged(group: string, slot: number, at: number): void {
    this.followed.add(group);
    this.report({ type: "dyshard:unacked", group, slot, at });
  }

  acknowledged(group: string, slot: number, at: number): void {
    if (this.followed.has(group)) this.report({ type: "dyshard:acked", group, slot, at });
  }

  /** The primary's word: these groups are followed (a push failed, here or in another worker). */
  follow(groups: string[]): void {
    for (const g of groups) this.followed.add(g);
  }

  unfollow(group: string): void {
    this.followed.delete(group);
  }
}
