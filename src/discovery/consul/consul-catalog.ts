// Turns Consul's answer to GET /v1/health/service/<name> into ring members. Pure, so that every
// dyshard that sees the same catalog computes the same ring.
//
// Slots: an instance's `Meta.dyshard_slot` (what `--consul-register` writes). Instances without
// one take the slots after the highest explicit slot, in order of service ID. Caveat: such slots
// are only as stable as the set of instances: registering or removing an instance whose ID sorts
// earlier shifts the later ones, and their groups move. Give every instance a dyshard_slot.
import type { MemberSpec } from "../../membership/membership.js";

export interface HealthEntry {
  Node: { Node: string; Address: string };
  Service: { ID: string; Service: string; Address: string; Port: number; Meta?: Record<string, string> | null; Tags?: string[] | null };
  Checks: { CheckID: string; Status: string; Output?: string }[];
}

export interface CatalogResult {
  members: MemberSpec[];
  /** Instances that could not be placed as asked (a duplicate or malformed dyshard_slot). */
  warnings: string[];
}

export function membersFromHealth(entries: HealthEntry[]): CatalogResult {
  const warnings: string[] = [];
  const byId = [...entries].sort((a, b) => compare(a.Service.ID, b.Service.ID) || compare(a.Node.Node, b.Node.Node));
  // The same service registered on several agents (one per dyshard): one member, healthy only if every copy passes.
  const instances = new Map<string, { url: string; id: string; slot: number | undefined; discoveryHealthy: boolean; reason: string }>();
  for (const e of byId) {
    const url = e.Service.Meta?.dyshard_url || `http://${hostPort(e.Service.Address || e.Node.Address, e.Service.Port)}`;
    const failing = e.Checks.filter((c) => c.Status !== "passing");
    const reason = failing.length ? `Consul: ${failing.map((c) => `${c.CheckID} ${c.Status}`).join(", ")}` : "Consul: all checks passing";
    const raw = e.Service.Meta?.dyshard_slot;
    let slot: number | undefined;
    if (raw !== undefined && raw !== "") {
      slot = /^\d{1,4}$/.test(raw) && Number(raw) < 4096 ? Number(raw) : undefined;
      if (slot === undefined)
        warnings.push(
          `${e.Service.ID}: dyshard_slot ${JSON.stringify(raw)} is not a slot number (0-4095); placed after the explicit slots`,
        );
    }
    const prev = instances.get(url);
    if (prev) {
      prev.discoveryHealthy &&= failing.length === 0;
      if (failing.length) prev.reason = reason;
      continue;
    }
    instances.set(url, { url, id: e.Service.ID, slot, discoveryHealthy: failing.length === 0, reason });
  }

  const members: MemberSpec[] = [];
  const taken = new Set<number>();
  const unplaced: { url: string; discoveryHealthy: boolean; reason: string }[] = [];
  for (const i of instances.values()) {
    if (i.slot !== undefined && !taken.has(i.slot)) {
      taken.add(i.slot);
      members.push({ slot: i.slot, url: i.url, discoveryHealthy: i.discoveryHealthy, discoveryReason: i.reason });
    } else {
      if (i.slot !== undefined)
        warnings.push(`${i.id}: dyshard_slot ${i.slot} is already taken by another instance; placed after the explicit slots`);
      unplaced.push(i);
    }
  }
  let next = taken.size ? Math.max(...taken) + 1 : 0;
  for (const i of unplaced) members.push({ slot: next++, url: i.url, discoveryHealthy: i.discoveryHealthy, discoveryReason: i.reason });
  return { members: members.sort((a, b) => a.slot - b.slot), warnings };
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
