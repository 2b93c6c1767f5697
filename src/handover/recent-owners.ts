// Remembers the rings of the last minutes, so that right after a push (PUT or DELETE) succeeds on
// a group's new owner, the copy at an owner it recently had can be deleted at once: the window in
// which Prometheus scrapes two copies shrinks from "until the next handover run" to one request.
import type { Logger } from "pino";
import type { Membership } from "../membership/membership.js";
import type { PushgatewayClient } from "../pushgateway/client/pushgateway-client.js";
import type { Ring } from "../routing/ring.js";

interface PastRing {
  ring: Ring;
  urls: (string | undefined)[];
  at: number;
}

export class RecentOwners {
  private readonly history: PastRing[] = [];
  private current: PastRing;

  constructor(
    private readonly membership: Membership,
    private readonly client: PushgatewayClient,
    private readonly windowMs: number,
    private readonly log: Logger,
    private readonly onDeleted: () => void,
  ) {
    this.current = this.snapshot();
    membership.on("ring", () => {
      this.history.push(this.current);
      this.current = this.snapshot();
    });
  }

  /** After a push to its owner succeeded: delete the group at owners it had in the window. */
  afterPush(key: string, method: string, target: string): void {
    if (this.history.length === 0 || method === "POST") return; // POST replaces only some families: left to the sweep
    const cutoff = Date.now() - this.windowMs;
    while (this.history.length && (this.history[0] as PastRing).at < cutoff) this.history.shift();
    const owner = this.membership.ring.owner(key);
    const stale = new Set<string>();
    for (const h of this.history) {
      const slot = h.ring.owner(key);
      const url = slot === undefined ? undefined : h.urls[slot];
      const member = slot === undefined ? undefined : this.membership.members[slot];
      if (slot !== owner && url && member?.healthy && member.url === url) stale.add(url);
    }
    const path = target.split("?")[0] as string;
    for (const url of stale) {
      this.client
        .deletePath(url, path)
        .then(this.onDeleted, (err: Error) =>
          this.log.warn({ err: err.message, url, path }, "could not delete the stale copy after a push"),
        );
    }
  }

  private snapshot(): PastRing {
    return { ring: this.membership.ring, urls: this.membership.members.map((m) => m?.url), at: Date.now() };
  }
}
