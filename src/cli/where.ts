// `dyshard where PATH...`: where each group is, asked of a running dyshard (GET /-/dyshard/group):
// its key, owner and standbys, and its copies on the instances, misplaced or duplicate ones flagged.
// One readable line per path, or `--json` for the endpoint's answers (one JSON line per path).
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { request } from "undici";
import { errorText } from "../core/errors.js";
import type { GroupCopy } from "../ops/group-copies.js";
import type { UpstreamError } from "../ops/fan-out.js";
import { fail } from "./options.js";

interface Lookup {
  path: string;
  key: string;
  owner: string | null;
  standbys: string[];
  copies: GroupCopy[];
  errors: UpstreamError[];
}

export function whereCommand(program: Command): void {
  program
    .command("where")
    .description(
      "print where each group's copies are, read live from every instance by a running dyshard (misplaced or duplicate copies flagged)",
    )
    .option("--dyshard-url <url>", "the running dyshard to ask", "http://127.0.0.1:9091")
    .option("--json", "print the answers of GET /-/dyshard/group, one JSON line per path")
    .argument("[paths...]", "push paths such as /metrics/job/j/instance/a (default: one per line on standard input)")
    .action(async (paths: string[], opts: { dyshardUrl: string; json?: boolean }) => {
      const base = opts.dyshardUrl.replace(/\/+$/, "");
      if (!/^https?:\/\/[^/]/.test(base))
        fail(`--dyshard-url must be an http(s) URL such as http://127.0.0.1:9091, not ${JSON.stringify(opts.dyshardUrl)}`);
      let unwell = 0;
      const one = async (path: string) => {
        const { status, text } = await ask(base, path);
        if (status !== 200) {
          unwell++;
          return process.stdout.write(
            opts.json ? JSON.stringify({ path, status, error: text.trim() }) + "\n" : `${path}  refused (${status}): ${text.trim()}\n`,
          );
        }
        const lookup = JSON.parse(text) as Lookup;
        if (lookup.errors.length > 0 || lookup.copies.some((c) => c.placed !== "ok")) unwell++;
        process.stdout.write(opts.json ? JSON.stringify(lookup) + "\n" : line(lookup) + "\n");
      };
      if (paths.length > 0) for (const p of paths) await one(p);
      else for await (const l of createInterface({ input: process.stdin })) if (l.trim()) await one(l.trim());
      process.exitCode = unwell > 0 ? 1 : 0;
    });
}

async function ask(base: string, path: string): Promise<{ status: number; text: string }> {
  const url = `${base}/-/dyshard/group?path=${encodeURIComponent(path)}`;
  try {
    const res = await request(url);
    const text = await res.body.text();
    // A path dyshard cannot look up is a 400; a 404 means the URL is no dyshard that has the lookup.
    if (res.statusCode === 404) fail(`${base} has no /-/dyshard/group (answered 404): is --dyshard-url a dyshard, of this version?`);
    return { status: res.statusCode, text };
  } catch (err) {
    return fail(`cannot ask ${base}: ${errorText(err)}`);
  }
}

/** `PATH  key K  owner U  standbys U,U  copies: U primary ok (pushed T); ...  not read: U (why)` */
export function line(l: Lookup): string {
  const parts = [l.path, `key ${l.key}`, `owner ${l.owner ?? "none (no healthy instance)"}`];
  if (l.standbys.length > 0) parts.push(`standbys ${l.standbys.join(",")}`);
  const copy = (c: GroupCopy) => {
    const flag = c.placed === "ok" ? "ok" : c.placed.toUpperCase();
    const when =
      c.push_time_seconds === null ? "never pushed successfully" : `pushed ${new Date(c.push_time_seconds * 1000).toISOString()}`;
    return `${c.upstream} ${c.role} ${flag} (${when})`;
  };
  parts.push(`copies: ${l.copies.length > 0 ? l.copies.map(copy).join("; ") : "none"}`);
  if (l.errors.length > 0) parts.push(`not read: ${l.errors.map((e) => `${e.upstream} (${e.error})`).join("; ")}`);
  return parts.join("  ");
}
