// The control plane's metrics of health and the ring (counted where health is decided: with
// --workers, in the primary).
import { Counter, type Registry } from "prom-client";
import type { Membership } from "../membership/membership.js";

export function controlMetrics(membership: Membership, registry: Registry) {
  const healthChanges = new Counter({
    name: "dyshard_upstream_health_changes_total",
    help: "Health changes of upstreams, by the state they changed to.",
    labelNames: ["upstream", "state"] as const,
    registers: [registry],
  });
  const ringChanges = new Counter({
    name: "dyshard_ring_changes_total",
    help: "Times the ring was rebuilt after a membership or health change.",
    registers: [registry],
  });
  membership.on("change", ({ member, healthy }) => healthChanges.inc({ upstream: member.url, state: healthy ? "up" : "down" }));
  membership.on("ring", () => ringChanges.inc());
}
