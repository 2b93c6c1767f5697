// The front rows the scenarios share: which engine `dyshard serve` uses without --engine (read from
// the configuration's defaults, so the rows follow when that default changes), a dyshard row per
// engine (the default one started without --engine), and the BENCH_FRONTS selection.
import { loadConfig } from "../src/config/load.js";
import { direct, startDyshard, startNginx, type FrontOrSkip, type Upstreams } from "./fronts.js";

/** What `dyshard serve` runs without --engine here (DYSHARD_ENGINE, which the fronts inherit, included). */
export const DEFAULT_ENGINE: string = loadConfig({ env: process.env }).engine;

/** The engines every front list has a row for; the default one first when it is not among them. */
export const ENGINES: string[] = ["undici", "native"].includes(DEFAULT_ENGINE)
  ? ["undici", "native"]
  : [DEFAULT_ENGINE, "undici", "native"];

/** What a row is, beside its name: the goals look rows up by these, not by their names. */
export interface RowTags {
  engine?: string;
  /** The row's dyshard runs without --engine. */
  default_engine?: boolean;
  replicas?: number;
}

export interface FrontSpec {
  name: string;
  workers: number | null;
  tags?: RowTags;
  start: () => Promise<FrontOrSkip>;
}

/** No front: the load straight to the first upstream (the reference row). */
export function directRow(upstreams: Upstreams, label: string): FrontSpec {
  return { name: "direct", workers: null, start: async () => direct(upstreams, label) };
}

export function nginxRow(upstreams: Upstreams, workers: number): FrontSpec {
  const name = `nginx ${workers} worker${workers > 1 ? "s" : ""}`;
  return { name, workers, start: () => startNginx(upstreams, workers) };
}

/** One dyshard process with `engine`; `replicas` adds `--replicas N` (and the figure to the name). */
export function dyshardRow(upstreams: Upstreams, engine: string, replicas?: number): FrontSpec {
  const isDefault = engine === DEFAULT_ENGINE;
  const name = `dyshard --engine ${engine}${replicas === undefined ? "" : ` --replicas ${replicas}`}${isDefault ? " (default engine)" : ""}`;
  const extra = replicas === undefined ? [] : ["--replicas", String(replicas)];
  return {
    name,
    workers: 1,
    tags: { engine, default_engine: isDefault, ...(replicas === undefined ? {} : { replicas }) },
    start: () => startDyshard(upstreams, { ...(isDefault ? {} : { engine }), name, extra }),
  };
}

/** BENCH_FRONTS=nginx,native: only the rows whose name holds one of these (a quick comparison). */
export function chosen<T extends { name: string }>(fronts: T[]): T[] {
  const only = (process.env.BENCH_FRONTS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return only.length === 0 ? fronts : fronts.filter((f) => only.some((o) => f.name.includes(o)));
}
