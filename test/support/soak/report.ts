// A soak's figures (the `# ...` lines the test and `npm run soak` print) and the problems that fail it.
import type { DuplicatePoller } from "../poller.js";
import type { Chaos } from "./chaos.js";
import type { PushRecord } from "./pushers.js";
import type { RssSampler } from "./rss.js";
import { cause, explained, GRACE_MS, type Placement } from "./verdict.js";
import type { SoakOptions } from "./run.js";

/**
 * RSS is flat when the end is at most this much above the start (the warm-up's peak). A run under
 * 60 s ends while the heap may still be growing to the load's size (it levels off after 35-40 s
 * here), so it is held to the looser bound.
 */
export function rssGrowthBound(seconds: number): number {
  return seconds >= 60 ? 0.3 : 0.5;
}

export interface SoakResult {
  figures: string[];
  problems: string[];
}

export interface SoakFacts {
  options: SoakOptions;
  chaos: Chaos;
  records: PushRecord[];
  placement: Placement;
  moves: Record<string, number>;
  poller: DuplicatePoller;
  rss: RssSampler;
  upstreams: string[];
  /** How long the clients pushed (at least --seconds: the driver finishes a round of faults). */
  pushedSeconds: number;
  /** dyshard's output (JSON lines at --log-level warn). */
  dyshardLog: string;
}

const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

export function soakFigures(f: SoakFacts): SoakResult {
  const { options: o, chaos, placement: p, rss } = f;
  const name = `soak --replicas ${o.replicas}`;
  const failed = f.records.filter((r) => r.status !== 200);
  const unexplained = failed.filter((r) => !explained(r, chaos.allDown, chaos.hung, f.upstreams));
  const byCause = new Map<string, number>();
  for (const r of failed) byCause.set(cause(r), (byCause.get(cause(r)) ?? 0) + 1);
  const downMs = chaos.allDown.reduce((s, w) => s + w.toMs - w.fromMs, 0);
  const growth = rss.endBytes / rss.startBytes - 1;
  const bound = rssGrowthBound(o.seconds);
  const m = (k: string) => f.moves[`dyshard_handover_groups_${k}_total`] ?? 0;
  const figures = [
    `${name}: ${o.seconds} s (pushed ${f.pushedSeconds.toFixed(1)} s), seed ${o.seed}, ${o.clients} clients over ${o.groups} groups, 3 Pushgateways, Consul emulator`,
    `${name}: faults ${Object.entries(chaos.counts)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")}; windows with every instance down or none in Consul ${chaos.allDown.length} (${downMs} ms in all)`,
    `${name}: pushes ${f.records.length}, acknowledged ${f.records.length - failed.length}, failed ${failed.length} (${unexplained.length} outside those windows ±${GRACE_MS} ms and not a hung owner's 504)`,
    ...[...byCause].map(([c, n]) => `${name}:   failures ${c}: ${n}`),
    `${name}: moves: copied ${m("copied")}, promoted ${m("promoted")}, replicated ${m("replicated")}, deleted ${f.moves['dyshard_handover_groups_deleted_total{via="sweep"}'] ?? 0} by the handover and ${f.moves['dyshard_handover_groups_deleted_total{via="push"}'] ?? 0} after pushes (the old owner's copy), failed ${m("failed")}, runs ${f.moves.dyshard_handover_runs_total ?? 0}`,
    `${name}: groups on instances when they were restarted empty ${chaos.wipedPrimaries}${o.replicas > 1 ? " (promoted from standby copies)" : " (gone until pushed again: the loss expected without standby copies)"}`,
    `${name}: at the end: groups lost ${p.lost}, lost after a data-losing fault ${p.lostToFaults}${o.replicas > 1 ? "" : " (allowed without standby copies)"}, wrong value ${p.wrongValue}, not on owner ${p.notOnOwner}, held twice ${p.heldTwice}, without standby ${p.noStandby}, copies elsewhere ${p.extra}`,
    `${name}: max duplicates seen by the poller ${f.poller.maxDuplicates} (${f.poller.pollsWithDuplicates} of ${f.poller.polls} polls)`,
    `${name}: dyshard RSS start ${mib(rss.startBytes)} (peak of the warm-up), peak ${mib(rss.peakBytes)}, end ${mib(rss.endBytes)} (${Math.round(growth * 100) || 0}%, bound +${bound * 100}%)`,
  ];
  const problems: string[] = [];
  for (const r of unexplained.slice(0, 5))
    problems.push(`unexplained failure: group ${r.group}, ${when(r, chaos)}: ${cause(r)}${logAround(f.dyshardLog, r)}`);
  if (unexplained.length > 5) problems.push(`... and ${unexplained.length - 5} more unexplained failures`);
  const lost = p.lost + (o.replicas > 1 ? p.lostToFaults : 0);
  if (lost > 0) problems.push(`${lost} groups lost`);
  for (const k of ["wrongValue", "notOnOwner", "heldTwice", "noStandby", "extra"] as const)
    if (p[k] > 0) problems.push(`${p[k]} groups ${k}`);
  if (!(growth <= bound)) problems.push(`RSS grew ${(growth * 100).toFixed(0)}% (bound ${bound * 100}%)`);
  return { figures, problems };
}

/** When a push was sent and answered, against the nearest all-down window. */
function when(r: PushRecord, chaos: Chaos): string {
  const iso = (ms: number) => new Date(ms).toISOString().slice(11, 23);
  const near = [...chaos.allDown].sort((a, b) => Math.abs(a.toMs - r.startMs) - Math.abs(b.toMs - r.startMs))[0];
  const window = near ? `; nearest all-down window ${iso(near.fromMs)}..${iso(near.toMs)}` : "; no all-down window";
  return `sent ${iso(r.startMs)}, answered ${iso(r.endMs)}${window}`;
}

/** What dyshard logged from 3 s before the push to its answer: the health changes that explain it, or not. */
function logAround(log: string, r: PushRecord): string {
  const lines = log.split("\n").flatMap((line) => {
    const entry = JSON.parse(line.startsWith("{") ? line : "{}") as { time?: string; msg?: string; upstream?: string; reason?: string };
    const ms = Date.parse(entry.time ?? "");
    return ms >= r.startMs - 3000 && ms <= r.endMs
      ? [`${entry.time?.slice(11, 23)} ${entry.msg} ${entry.upstream ?? ""} ${entry.reason ?? ""}`]
      : [];
  });
  return lines.length ? `; dyshard logged: ${lines.slice(-8).join(" | ")}` : "";
}
