// Every setting's effective value as text, for GET /api/v1/status (the Pushgateway shows its flags
// there): keyed by the flag's name without `--`, durations in milliseconds and sizes in bytes (a
// bare number is read back so by --upstream-timeout, --max-body, ...), secrets hidden. The
// settings table (SETTINGS, src/config/load.ts) is handed in: this file imports nothing back.

/** Settings whose value is a secret: shown as set or not, never as written. */
const SECRETS = new Set(["discovery.consul.token"]);

/** Each setting's parsed value as text (durations in ms, sizes in bytes), keyed by its flag's name. */
export function settingValues(settings: readonly { path: string; flag: string }[], parsed: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of settings) {
    const value = s.path.split(".").reduce<unknown>((node, k) => (node as Record<string, unknown> | undefined)?.[k], parsed);
    const name = (s.flag.split(" ")[0] as string).slice(2);
    const text = Array.isArray(value) ? value.map(settingText).join(",") : settingText(value);
    out[name] = SECRETS.has(s.path) && text !== "" ? "<secret>" : text;
  }
  return out;
}

function settingText(value: unknown): string {
  if (value !== null && typeof value === "object") {
    const v = value as { url?: string; name?: string; host?: string; port?: number };
    if (v.host !== undefined) return `${v.host}:${v.port}`;
    return v.name !== undefined ? `${v.name}=${v.url}` : (v.url ?? JSON.stringify(value));
  }
  return value === undefined ? "" : String(value);
}
