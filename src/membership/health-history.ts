// Each member's recent health, for the status page (GET /-/dyshard/status): its state when first
// seen, then every change, the newest last. Kept where health is decided (with --workers, the primary).
import type { HealthEvent } from "./member.js";
import type { Membership } from "./membership.js";

export class HealthHistory {
  private readonly byUrl = new Map<string, HealthEvent[]>();

  constructor(
    private readonly membership: Membership,
    private readonly keep = 20,
  ) {
    this.join();
    membership.on("change", ({ member, healthy, reason }) => this.add(member.url, { at: new Date().toISOString(), healthy, reason }));
    // Members discovery adds later (Consul) start with their state on joining.
    membership.on("ring", () => this.join());
  }

  /** Every known upstream's events, oldest first (at most `keep` each). */
  view(): Record<string, HealthEvent[]> {
    return Object.fromEntries(this.byUrl);
  }

  private join(): void {
    for (const m of this.membership.active())
      if (!this.byUrl.has(m.url)) this.add(m.url, { at: new Date(m.since).toISOString(), healthy: m.healthy, reason: m.reason });
  }

  private add(url: string, event: HealthEvent): void {
    const events = this.byUrl.get(url) ?? [];
    events.push(event);
    if (events.length > this.keep) events.shift();
    this.byUrl.set(url, events);
  }
}
