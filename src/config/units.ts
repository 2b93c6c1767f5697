// Durations ("500ms", "2s", "1m", "1h30m") and sizes ("1MiB", "512KiB", "1048576") as users write them.
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
};

/** Milliseconds, or undefined when `text` is not a duration. A bare number is taken as milliseconds. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === "number") return Number.isFinite(text) && text >= 0 ? text : undefined;
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const parts = s.match(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g);
  if (!parts || parts.join("") !== s) return undefined;
  let ms = 0;
  for (const part of parts) {
    const [, n, unit] = part.match(/^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/) as RegExpMatchArray;
    ms += Number(n) * (DURATION_UNITS[unit as string] as number);
  }
  return ms;
}

/** Bytes, or undefined when `text` is not a size. */
export function parseSize(text: string | number): number | undefined {
  if (typeof text === "number") return Number.isInteger(text) && text >= 0 ? text : undefined;
  const m = text.trim().match(/^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/);
  const unit = m ? SIZE_UNITS[(m[2] as string).toLowerCase()] : undefined;
  return m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : undefined;
}

export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
