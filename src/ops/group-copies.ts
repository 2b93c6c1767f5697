// Where the copies of one group are, against where the ring says they belong (the group lookup,
// GET /-/dyshard/group). A group and its empty-label twin are one group (routingKey drops empty
// values: docs/ARCHITECTURE.md), so both count as its copies. Pure.
import { pushTimeSeconds, type ApiGroup } from "../pushgateway/exposition.js";
import { routingKey, type GroupingKey } from "../pushgateway/grouping-key.js";
import { isStandby, primaryLabels } from "../pushgateway/replica.js";
import type { Answered } from "./fan-out.js";

export type Placed = "ok" | "misplaced" | "duplicate";

export interface GroupCopy {
  upstream: string;
  role: "primary" | "standby";
  /** The copy's grouping labels as the instance stores them (a twin shows its empty value). */
  labels: Record<string, string>;
  /** null: never pushed successfully. */
  push_time_seconds: number | null;
  /**
   * ok: a primary on the owner, a standby on a standby slot (the first such copy there);
   * duplicate: a second copy of its role where one already is, or a primary beside another
   * primary (Prometheus would scrape it twice); misplaced: the only primary, or a standby, elsewhere.
   */
  placed: Placed;
}

/** Every copy of `group` in the instances' answers, each judged against `owner` and `standbys` (URLs). */
export function groupCopies(
  group: GroupingKey,
  answers: readonly Answered<ApiGroup[]>[],
  owner: string | undefined,
  standbys: readonly string[],
): GroupCopy[] {
  const key = routingKey(group);
  const found: Omit<GroupCopy, "placed">[] = [];
  for (const { upstream, value } of answers)
    for (const g of value) {
      const { job = "", ...labels } = primaryLabels(g.labels);
      if (routingKey({ job, labels }) !== key) continue;
      const pushed = pushTimeSeconds(g);
      found.push({ upstream, role: isStandby(g.labels) ? "standby" : "primary", labels: g.labels, push_time_seconds: pushed ?? null });
    }
  const primaries = found.filter((c) => c.role === "primary").length;
  const seen = new Set<string>();
  return found.map((c) => {
    const where = `${c.role} ${c.upstream}`;
    const again = seen.has(where);
    seen.add(where);
    const right = c.role === "primary" ? c.upstream === owner : standbys.includes(c.upstream);
    if (right && !again) return { ...c, placed: "ok" };
    const placed: Placed = again || (c.role === "primary" && primaries > 1) ? "duplicate" : "misplaced";
    return { ...c, placed };
  });
}
