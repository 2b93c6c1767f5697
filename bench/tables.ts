// What every table and goal line of the report is made of: number formats, a padded Markdown
// table, and a goal's verdict (a row with errors or non-2xx answers fails its goal).
import type { Row } from "./rounds.js";

export interface Goal {
  status: "PASS" | "FAIL" | "SKIP";
  line: string;
}

export const DASH = "–";
export const num = (x: number | null | undefined) => (x === null || x === undefined ? DASH : x.toLocaleString("en-US"));
export const ratio = (x: number | null | undefined) => (x === null || x === undefined ? DASH : `${x.toFixed(2)}x`);
export const ok = <T extends object>(x: T | { error: string } | undefined): x is T => x !== undefined && !("error" in x);

/** A Markdown table with padded columns (readable on a terminal too). */
export function table(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

export const troubled = (x: Pick<Row, "errors" | "non_2xx">) =>
  (x.errors ?? 0) + (x.non_2xx ?? 0) > 0 ? ` (but ${x.errors} errors, ${x.non_2xx} non-2xx)` : "";
export const verdict = (pass: boolean, x: Pick<Row, "errors" | "non_2xx">[]) => (pass && x.every((y) => !troubled(y)) ? "PASS" : "FAIL");
