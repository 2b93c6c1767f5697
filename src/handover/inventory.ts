// What a handover run reads of the instances, kept small: the plan needs only where each group is,
// when it was pushed, its family names and (with standby copies) a digest of its samples, so the
// inventory keeps that much of each group; the executor then reads back whole only the copies its
// steps act on (`readSources`) and, chunk by chunk, only the chunk's groups of an owner (`readOnly`).
// That keeps a run over 100,000 groups within a few dozen MiB (bench/README.md, "sweep").
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Member } from "../membership/member.js";
import type { PushgatewayClient } from "../pushgateway/client/pushgateway-client.js";
import type { ApiGroup } from "../pushgateway/exposition.js";
import { pushTimeSeconds } from "../pushgateway/exposition.js";
import { isStandby } from "../pushgateway/replica.js";
import { mapLimit } from "../core/map-limit.js";
import { dataOf, families } from "./copies.js";
import { groupId, type GroupCopy } from "./plan.js";

export interface Inventory {
  copies: GroupCopy[];
  /** Slots whose whole inventory was read. */
  inventoried: Set<number>;
  /** The URLs read, in the order they answered. */
  urls: string[];
  errors: string[];
}

/**
 * Every healthy member's groups as copies. `digests` (with --replicas 2 or more): each copy's
 * samples digested, which costs ~20 µs a group; without it only standby copies are digested, so a
 * standby copy left from a higher --replicas and newer than its primary is promoted over it (the
 * same samples written once more) before it is deleted.
 */
export async function readInventory(
  client: PushgatewayClient,
  members: Member[],
  opts: { concurrency: number; digests: boolean },
): Promise<Inventory> {
  const inv: Inventory = { copies: [], inventoried: new Set(), urls: [], errors: [] };
  await mapLimit(members, opts.concurrency, async (m) => {
    const found: GroupCopy[] = [];
    try {
      await client.eachGroup(m.url, (g) => void found.push(copyOf(m.slot, g, opts.digests || isStandby(g.labels))));
      for (const c of found) inv.copies.push(c);
      inv.inventoried.add(m.slot);
      inv.urls.push(m.url);
    } catch (err) {
      inv.errors.push(`inventory of ${m.url}: ${(err as Error).message}`);
    }
  });
  return inv;
}

function copyOf(slot: number, g: ApiGroup, digest: boolean): GroupCopy {
  const copy: GroupCopy = { slot, labels: g.labels, pushTime: pushTimeSeconds(g), families: families(g) };
  if (digest) copy.data = createHash("sha1").update(dataOf(g)).digest("base64");
  return copy;
}

/**
 * The whole copies named `${slot}|${groupId}`, read again from their slots (the rest of each
 * answer dropped as it is read). A slot that cannot be read is named in `errors`: its steps find no
 * source, and fail or re-check the owner (executor.ts), so nothing is deleted on its account.
 */
export async function readSources(
  client: PushgatewayClient,
  urlOf: (slot: number) => string | undefined,
  keys: ReadonlySet<string>,
  concurrency: number,
): Promise<{ snapshot: Map<string, ApiGroup>; errors: string[] }> {
  const bySlot = new Map<number, Set<string>>();
  for (const key of keys) {
    const bar = key.indexOf("|");
    const slot = Number(key.slice(0, bar));
    bySlot.set(slot, (bySlot.get(slot) ?? new Set()).add(key.slice(bar + 1)));
  }
  const snapshot = new Map<string, ApiGroup>();
  const errors: string[] = [];
  await mapLimit([...bySlot], concurrency, async ([slot, ids]) => {
    const url = urlOf(slot);
    if (!url) return;
    try {
      for (const [id, g] of await readOnly(client, url, ids)) snapshot.set(`${slot}|${id}`, g);
    } catch (err) {
      errors.push(`copies to move from ${url}: ${(err as Error).message}`);
    }
  });
  return { snapshot, errors };
}

/**
 * `read()` again, at most 5 times 100 ms apart, while `unseen` says a write is not in its answer:
 * an instance run with --push.disable-consistency-check answers a push 202 and applies it a moment
 * later (the confirm reads of executor.ts and standby-writes.ts).
 */
export async function readBack<T>(read: () => Promise<T>, unseen: (answer: T) => boolean): Promise<T> {
  for (let tries = 1; ; tries++) {
    const answer = await read();
    if (tries >= 5 || !unseen(answer)) return answer;
    await sleep(100);
  }
}

/** The groups of `url` whose groupId is in `ids`, by groupId. */
export async function readOnly(client: PushgatewayClient, url: string, ids: ReadonlySet<string>): Promise<Map<string, ApiGroup>> {
  const out = new Map<string, ApiGroup>();
  await client.eachGroup(url, (g) => {
    const id = groupId(g.labels);
    if (ids.has(id)) out.set(id, g);
  });
  return out;
}
