// Unlabelled samples of dyshard's /metrics, read in one scrape on a connection that closes after
// it (so the scrape leaves nothing in dyshard_connections_open but itself while it lasts).
import { closing, rawRequest } from "./raw-http.js";

export async function scrapeValues(port: number, ...names: string[]): Promise<number[]> {
  const r = await rawRequest(port, closing("GET /metrics HTTP/1.1"));
  if (r.status !== 200) throw new Error(`GET /metrics answered ${r.status}: ${r.body}`);
  const lines = r.body.split("\n");
  return names.map((name) => Number(lines.find((l) => l.startsWith(`${name} `))?.slice(name.length + 1)));
}

export async function scrapeValue(port: number, name: string): Promise<number> {
  return (await scrapeValues(port, name))[0] as number;
}
