// Small client helpers for tests: push through dyshard like a batch job would.
import { request } from "undici";

export async function push(base: string, path: string, body = "", method = "PUT"): Promise<{ status: number; text: string }> {
  const res = await request(base + path, { method: method as "PUT", body });
  return { status: res.statusCode, text: await res.body.text() };
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function inParallel<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

/** Where each job lives: job name → indices of the Pushgateways that hold a group of it. */
export async function placement(pgs: { groups(): Promise<{ labels: Record<string, string> }[]> }[]): Promise<Map<string, number[]>> {
  const where = new Map<string, number[]>();
  const all = await Promise.all(pgs.map((p) => p.groups()));
  all.forEach((groups, i) => {
    for (const g of groups) {
      const id = JSON.stringify(Object.entries(g.labels).sort());
      where.set(id, [...(where.get(id) ?? []), i]);
    }
  });
  return where;
}
