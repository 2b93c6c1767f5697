// Differential runs: the same raw push sent to a bare Pushgateway and through dyshard (in front of
// a Pushgateway of its own); status, message, Location and the group stored must agree, except
// where dyshard differs on purpose: pushes that break a Pushgateway 1.5.1 (refused with 400, never
// sent to the bare one either) and empty-label twins (stored as the group itself).
import { sendRaw } from "./raw-push.js";
import { route } from "../../src/routing/route.js";

export interface Raw {
  status: number;
  location: string | undefined;
  body: string;
}

export async function send(port: number, method: string, path: string, body?: string): Promise<Raw> {
  const r = await sendRaw(port, method, path, body);
  return { status: r.status, location: r.headers.location, body: r.body };
}

/** Pushes dyshard refuses on purpose: a bare Pushgateway 1.5.1 would be left broken by them. */
export function breaksAnInstance(method: string, path: string): boolean {
  const r = route(method, path, "group");
  return r.kind === "answer" && r.status === 400 && /Pushgateway 1\.5\.1 would be left|^invalid base64 encoding in job name /.test(r.body);
}

/** A stored group as it must compare: labels sorted, empty values dropped (the twin rule). */
export function groupId(labels: Record<string, string>): string {
  return JSON.stringify(
    Object.entries(labels)
      .filter(([, v]) => v !== "")
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

export interface Mismatch {
  method: string;
  path: string;
  what: string;
  bare: string;
  dyshard: string;
}

export interface Sides {
  /** A bare Pushgateway (started with --web.enable-admin-api, wiped after each push). */
  bare: { port: number; url: string };
  /** dyshard, in front of `behind` alone. */
  front: { port: number };
  behind: { port: number; url: string };
}

async function stored(url: string): Promise<string[]> {
  const body = (await (await fetch(`${url}/api/v1/metrics`)).json()) as { data: { labels: Record<string, string> }[] | null };
  return (body.data ?? []).map((g) => groupId(g.labels)).sort();
}

async function wipe(url: string): Promise<void> {
  const res = await fetch(`${url}/api/v1/admin/wipe`, { method: "PUT" });
  if (res.status !== 202) throw new Error(`${url}/api/v1/admin/wipe answered ${res.status}: start it with --web.enable-admin-api`);
}

/** Sends every path to both sides and lists where they differ; `progress` is told of every 500th. */
export async function differential(
  sides: Sides,
  paths: string[],
  methods: string[],
  progress?: (done: number) => void,
): Promise<Mismatch[]> {
  const out: Mismatch[] = [];
  for (const [i, path] of paths.entries()) {
    const method = methods[i % methods.length] as string;
    if (breaksAnInstance(method, path)) {
      // Never sent to the bare one (it would be left broken): dyshard must refuse it without forwarding.
      const mine = await send(sides.front.port, method, path, "m 1\n");
      if (mine.status !== 400)
        out.push({ method, path, what: "a push that breaks an instance was not refused", bare: "-", dyshard: String(mine.status) });
      continue;
    }
    const [bare, mine] = await Promise.all([send(sides.bare.port, method, path, "m 1\n"), send(sides.front.port, method, path, "m 1\n")]);
    const diff = (what: string, a: unknown, b: unknown) => {
      if (a !== b) out.push({ method, path, what, bare: String(a), dyshard: String(b) });
    };
    diff("status", bare.status, mine.status);
    if (bare.status === mine.status) {
      if (bare.status >= 300 && bare.status < 400) diff("Location", bare.location, mine.location);
      else if (bare.status >= 400) diff("message", bare.body, mine.body);
    }
    const [a, b] = await Promise.all([stored(sides.bare.url), stored(sides.behind.url)]);
    diff("stored groups", a.join(" "), b.join(" "));
    if (a.length > 0) await wipe(sides.bare.url);
    if (b.length > 0) await wipe(sides.behind.url);
    if (progress && (i + 1) % 500 === 0) progress(i + 1);
  }
  return out;
}
