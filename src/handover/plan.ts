// The handover plan: what to do with every group found where it does not belong. Pure: it sees
// copies (where a group is, when it was pushed, which families it has) and the ring, and decides;
// the executor does the I/O and re-checks before it deletes anything.
//
// With R replicas (--replicas) a group has its primary on owners[0] (Ring.owners) and a standby
// copy, the group with dyshard_replica="1" (src/pushgateway/replica.ts), on each of owners[1..R-1].
// Primary and standby copies of a group are planned together, newest push winning across both
// (a primary and a standby copy holding the same samples are one push: copies.ts pushAtLeastAsNew):
//
// - the owner holds the group, pushed at the same time or later than every other copy: delete the
//   stale copies (after merging families the owner lacks: a POST-style job may have pushed only
//   some families there);
// - the owner lacks it or holds an older one: copy the newest copy to the owner as the primary (a
//   standby copy's source loses the replica label: the promotion that saves the data), confirm,
//   then delete the stale copies;
// - a standby slot lacks its standby copy or holds an older one: the executor writes it from the
//   owner's confirmed primary (re-replication after a failure, a recovery or a scale-up);
// - primaries on other slots than the owner, standby copies on slots that are not a standby of the
//   group (the owner included): delete them once the owner (and, for standby copies, every standby
//   slot) was read back holding copies at least as new;
// - owner unhealthy or unknown (no healthy member, or its inventory could not be read): leave it;
//   a standby slot whose inventory could not be read gets nothing, and stale standby copies stay.
//
// Expiry (--group-ttl, expiry.ts): a group whose newest push over all its copies is older than its
// job's TTL is expired, wherever its copies are, once its owner was inventoried: every copy goes
// (the executor re-reads the owner first, so a push racing the expiry keeps the group).
//
// Push times are trusted unless dyshard knows better: when the ledger (push-ledger.ts) names the
// slot of the group's last acknowledged push, that copy wins, however old its push_time, over
// copies an instance may have applied late from pushes dyshard never acknowledged.
import { isStandby, primaryLabels } from "../pushgateway/replica.js";
import { pushAtLeastAsNew, type Pushed } from "./copies.js";
import { expiryCutoff, span, type Expiry } from "./expiry.js";

export interface GroupCopy {
  slot: number;
  /** The copy's labels as the Pushgateway stores them, job included, empty values kept (a standby copy's with the replica label). */
  labels: Record<string, string>;
  /** push_time_seconds; undefined (never pushed successfully) counts as oldest. */
  pushTime: number | undefined;
  /** Metric family names, push_time_seconds and push_failure_time_seconds excluded. */
  families: string[];
  /** A digest of the copy's samples (copies.ts dataOf), read where standby copies are compared (inventory.ts). */
  data?: string;
}

export interface PlanInput {
  copies: GroupCopy[];
  /**
   * The group's owners on the current ring (`Ring.owners(key, R)`): the first holds the primary,
   * the others standby copies; shorter when fewer slots are healthy, empty when none is.
   */
  ownersOf?(labels: Record<string, string>): number[];
  /** With one copy (R = 1): the slot that owns a group; undefined when none is healthy. Used when `ownersOf` is not given. */
  ownerOf?(labels: Record<string, string>): number | undefined;
  /** Slots whose inventory was read: only there is "the owner lacks it" known to be true. */
  inventoried: ReadonlySet<number>;
  /** The slot holding the group's last acknowledged push, when push times cannot be trusted. */
  authority?(labels: Record<string, string>): number | undefined;
  /**
   * Whether two copies hold the same samples (copies.ts `sameData`): then a primary and a standby
   * copy count as one push, whatever their push times say (see `pushAtLeastAsNew`).
   */
  sameData?(a: GroupCopy, b: GroupCopy): boolean;
  /** Group expiry: absent when no job's groups expire. */
  expiry?: Expiry;
}

/** The standby side of a step, present when the group has standby slots or standby copies. */
export interface StandbyPart {
  /** The group's standby slots on the ring the plan was made from. */
  standbys?: number[];
  /** Standby slots to write the standby copy to, from the owner's primary once it is confirmed. */
  replicate?: number[];
  /** Slots holding a standby copy that is not theirs to hold any more: deleted once its replacements were read back. */
  standbyFrom?: number[];
}

export type HandoverStep =
  /** `acknowledged`: decided by the ledger, not by push times (the executor must not compare them). */
  | ({ action: "delete"; group: Record<string, string>; owner: number; from: number[]; reason: string; acknowledged?: true } & StandbyPart)
  | ({
      action: "merge";
      group: Record<string, string>;
      owner: number;
      source: number;
      families: string[];
      from: number[];
      reason: string;
    } & StandbyPart)
  /** `promote`: the source is the standby copy at `source`, written to the owner as the primary. */
  | ({
      action: "copy";
      group: Record<string, string>;
      owner: number;
      source: number;
      from: number[];
      reason: string;
      acknowledged?: true;
      promote?: true;
    } & StandbyPart)
  /** The owner holds the primary; standby copies are written (`replicate`), then stale copies deleted. */
  | ({
      action: "replicate";
      group: Record<string, string>;
      owner: number;
      from: number[];
      reason: string;
      acknowledged?: true;
    } & StandbyPart)
  /** Nobody pushed the group for its TTL: every copy deleted, primaries (`from`, the owner's too) and standby copies. */
  | {
      action: "expire";
      group: Record<string, string>;
      owner: number;
      from: number[];
      standbyFrom: number[];
      /** A copy on the owner pushed later than this (Unix seconds) keeps the group: a push raced the expiry. */
      cutoff: number;
      reason: string;
      standbys?: undefined;
      replicate?: undefined;
    }
  /** Only `standbyFrom` of the standby part: the stale standby copies left where they are. */
  | ({ action: "leave"; group: Record<string, string>; owner: number | null; from: number[]; reason: string } & StandbyPart);

export interface HandoverPlan {
  /** Distinct groups seen over all inventoried instances (a group and its standby copies are one). */
  groups: number;
  /** Groups with a copy where it does not belong, or a standby slot lacking its standby copy. */
  misplaced: number;
  /** Groups nobody pushed for their TTL (expire steps). */
  expired: number;
  steps: HandoverStep[];
}

/** A step the ledger decided (see `acknowledged` above): push times mean nothing for it. */
export function isAcknowledged(step: HandoverStep): step is Extract<HandoverStep, { action: "copy" | "delete" | "replicate" }> {
  return (step.action === "copy" || step.action === "delete" || step.action === "replicate") && step.acknowledged === true;
}

export function groupId(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function planHandover(input: PlanInput): HandoverPlan {
  const ownersOf = ownersFrom(input);
  const byGroup = new Map<string, { group: Record<string, string>; copies: GroupCopy[] }>();
  for (const c of input.copies) {
    const group = primaryLabels(c.labels);
    const id = groupId(group);
    const entry = byGroup.get(id);
    if (entry) entry.copies.push(c);
    else byGroup.set(id, { group, copies: [c] });
  }
  const steps: HandoverStep[] = [];
  let expired = 0;
  for (const { group, copies } of byGroup.values()) {
    const owners = ownersOf(group);
    const gone = input.expiry && expireStep(group, copies, owners[0], input.expiry, input.inventoried);
    if (gone) expired++;
    const step = gone ?? planGroup(new GroupView(group, copies, owners, input));
    if (step) steps.push(step);
  }
  return { groups: byGroup.size, misplaced: steps.length - expired, expired, steps };
}

/** An expire step when nobody pushed the group for its job's TTL and its owner was read (it may hold a newer push). */
function expireStep(
  group: Record<string, string>,
  copies: GroupCopy[],
  owner: number | undefined,
  expiry: Expiry,
  inventoried: ReadonlySet<number>,
): HandoverStep | undefined {
  if (owner === undefined || !inventoried.has(owner)) return undefined;
  const found = expiryCutoff(group.job ?? "", copies, expiry);
  if (!found) return undefined;
  const slots = (standby: boolean) => copies.filter((c) => isStandby(c.labels) === standby).map((c) => c.slot);
  const reason = `no push for ${span(expiry.nowS - found.newest)} (TTL ${span(found.ttl)})`;
  return { action: "expire", group, owner, from: slots(false), standbyFrom: slots(true), cutoff: found.cutoff, reason };
}

function ownersFrom({ ownersOf, ownerOf }: PlanInput): (labels: Record<string, string>) => number[] {
  if (ownersOf) return ownersOf;
  if (!ownerOf) throw new Error("planHandover needs ownersOf (or ownerOf for one copy per group)");
  return (labels) => {
    const owner = ownerOf(labels);
    return owner === undefined ? [] : [owner];
  };
}

/** One group's copies sorted out against its owners. */
class GroupView {
  readonly owner: number | undefined;
  readonly standbys: number[];
  readonly primaries: GroupCopy[];
  readonly standbyCopies: GroupCopy[];
  /** Primaries not on the owner, newest first. */
  readonly stale: GroupCopy[];
  /** Standby copies not on a standby slot, newest first. */
  readonly staleStandby: GroupCopy[];
  /** Whether the step carries a standby part (R ≥ 2, or standby copies left from one). */
  readonly replicas: boolean;

  constructor(
    readonly group: Record<string, string>,
    copies: GroupCopy[],
    owners: number[],
    readonly input: PlanInput,
  ) {
    [this.owner] = owners;
    this.standbys = owners.slice(1);
    this.primaries = copies.filter((c) => !isStandby(c.labels));
    this.standbyCopies = copies.filter((c) => isStandby(c.labels));
    this.stale = this.primaries.filter((c) => c.slot !== this.owner).sort(newestFirst);
    this.staleStandby = this.standbyCopies.filter((c) => !this.standbys.includes(c.slot)).sort(newestFirst);
    this.replicas = this.standbys.length > 0 || this.standbyCopies.length > 0;
  }

  get from(): number[] {
    return this.stale.map((c) => c.slot);
  }

  /** `a` holds a push at least as new as `b`'s. */
  asNew(a: GroupCopy, b: GroupCopy): boolean {
    if (a === b) return true;
    return pushAtLeastAsNew(pushed(a), pushed(b), () => this.input.sameData?.(a, b) ?? false);
  }

  standbyAt(slot: number): GroupCopy | undefined {
    return this.standbyCopies.find((c) => c.slot === slot);
  }

  /** Standby slots whose inventory could not be read. */
  get unknownStandbys(): number[] {
    return this.standbys.filter((s) => !this.input.inventoried.has(s));
  }

  /** The standby part of a step writing to `replicate`; stale standby copies only while every standby slot is known. */
  part(replicate: number[]): StandbyPart {
    if (!this.replicas) return {};
    const standbyFrom = this.unknownStandbys.length ? [] : this.staleStandby.map((c) => c.slot);
    return { standbys: this.standbys, replicate, standbyFrom };
  }
}

function planGroup(v: GroupView): HandoverStep | undefined {
  const { group, owner, input } = v;
  if (owner === undefined || !input.inventoried.has(owner)) {
    if (v.stale.length + v.staleStandby.length === 0) return undefined;
    return {
      action: "leave",
      group,
      owner: owner ?? null,
      from: v.from,
      reason: owner === undefined ? "no healthy owner" : `owner slot ${owner} could not be inventoried`,
      ...(v.replicas ? { standbyFrom: v.staleStandby.map((c) => c.slot) } : {}),
    };
  }
  const acked = input.authority?.(group);
  const ackedCopy = acked === undefined ? undefined : v.primaries.find((c) => c.slot === acked);
  return ackedCopy ? acknowledgedStep(v, owner, ackedCopy) : trustingStep(v, owner);
}

/** Newest push wins: the owner's primary if it is at least as new as every other copy, else the newest copy. */
function trustingStep(v: GroupView, owner: number): HandoverStep | undefined {
  const { group, from } = v;
  const held = v.primaries.find((c) => c.slot === owner);
  const others = [...v.primaries, ...v.standbyCopies].filter((c) => c !== held).sort(newestFirst);
  const newest = held && others.every((c) => v.asNew(held, c)) ? undefined : others[0];
  // A primary holding the newest push is copied as it is: a promotion is when only a standby copy holds it.
  const source = newest && (others.find((c) => !isStandby(c.labels) && v.asNew(c, newest)) ?? newest);
  const newestStale = v.stale[0];
  const missing = !source && held && newestStale ? newestStale.families.filter((f) => !held.families.includes(f)).sort() : [];
  // Each standby slot must hold the newest push; a merge changes the primary, and every standby copy follows it.
  const ref = (newest ?? held) as GroupCopy;
  const replicate = v.standbys.filter((s) => {
    const there = v.standbyAt(s);
    return v.input.inventoried.has(s) && (missing.length > 0 || !there || !v.asNew(there, ref));
  });
  const part = v.part(replicate);
  const note = standbyNote(v, replicate, source === undefined && missing.length === 0);
  if (source) {
    const promote = isStandby(source.labels);
    const why = held ? "owner holds an older push" : "owner lacks the group";
    const reason = promote ? `${why}: the standby copy on slot ${source.slot} is promoted` : why;
    return { action: "copy", group, owner, source: source.slot, from, reason: reason + note, ...(promote ? { promote } : {}), ...part };
  }
  if (missing.length > 0)
    return {
      action: "merge",
      group,
      owner,
      source: (newestStale as GroupCopy).slot,
      families: missing,
      from,
      reason: `owner holds a newer push but lacks ${missing.join(", ")}${note}`,
      ...part,
    };
  if (replicate.length > 0) return { action: "replicate", group, owner, from, reason: note.slice(2), ...part };
  if (from.length + (part.standbyFrom?.length ?? 0) === 0) return undefined;
  return { action: "delete", group, owner, from, reason: "owner holds the same or a newer push" + note, ...part };
}

/** The ledger decided: the copy at the slot of the last acknowledged push goes to the owner, and the standby copies follow it. */
function acknowledgedStep(v: GroupView, owner: number, acked: GroupCopy): HandoverStep | undefined {
  const { group, from } = v;
  // Push times mean nothing here: only a standby copy holding the acknowledged samples is kept.
  const replicate = v.standbys.filter((s) => {
    const there = v.standbyAt(s);
    return v.input.inventoried.has(s) && !(there && (v.input.sameData?.(there, acked) ?? false));
  });
  const part = v.part(replicate);
  const note = standbyNote(v, replicate, false);
  if (acked.slot !== owner)
    return {
      action: "copy",
      group,
      owner,
      source: acked.slot,
      from,
      reason: `slot ${acked.slot} holds the last acknowledged push; the other copies were not acknowledged${note}`,
      acknowledged: true,
      ...part,
    };
  if (from.length + replicate.length + (part.standbyFrom?.length ?? 0) === 0) return undefined;
  return {
    action: replicate.length > 0 ? "replicate" : "delete",
    group,
    owner,
    from,
    reason: `owner holds the last acknowledged push; the other copies were not acknowledged${note}`,
    acknowledged: true,
    ...part,
  };
}

/** The standby side in words, appended to a step's reason ("" with one copy per group). */
function standbyNote(v: GroupView, replicate: number[], alone: boolean): string {
  if (!v.replicas) return "";
  const notes: string[] = [];
  const slots = replicate.join(", ");
  if (replicate.length)
    notes.push(alone ? `standby slot ${slots} lacks the standby copy or holds an older one` : `then the standby copy on slot ${slots}`);
  const unknown = v.unknownStandbys;
  if (unknown.length) notes.push(`standby slot ${unknown.join(", ")} could not be inventoried: stale standby copies kept`);
  return notes.map((n) => `; ${n}`).join("");
}

/** Newest push first; on a tie primaries before standby copies (no promotion needed), then by slot. */
function newestFirst(a: GroupCopy, b: GroupCopy): number {
  const ta = time(a);
  const tb = time(b);
  if (ta !== tb) return ta < tb ? 1 : -1;
  const sa = isStandby(a.labels) ? 1 : 0;
  const sb = isStandby(b.labels) ? 1 : 0;
  return sa - sb || a.slot - b.slot;
}

function pushed(c: GroupCopy): Pushed {
  return { time: time(c), standby: isStandby(c.labels) };
}

function time(c: GroupCopy): number {
  return c.pushTime ?? -Infinity;
}
