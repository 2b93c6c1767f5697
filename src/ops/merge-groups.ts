// The merged GET /api/v1/metrics: every instance's groups in the Pushgateway's own shape, each with
// the instance that holds it, standby copies left out (they are dyshard's, not the user's). Pure.
import type { ApiGroup } from "../pushgateway/exposition.js";
import { isStandby } from "../pushgateway/replica.js";
import type { Answered } from "./fan-out.js";

/**
 * The field naming the instance a group was read from. A group's other keys are its metric
 * families' names, so the field is in dyshard's namespace (as the `dyshard_replica` label is): a
 * plain `upstream` would replace a family of that name.
 */
export const UPSTREAM_FIELD = "dyshard_upstream";

/** A group as the Pushgateway shows it, plus UPSTREAM_FIELD. */
export type MergedGroup = ApiGroup & { [UPSTREAM_FIELD]: string };

export function mergeGroups(answers: readonly Answered<ApiGroup[]>[]): MergedGroup[] {
  const out: MergedGroup[] = [];
  for (const { upstream, value } of answers)
    for (const g of value) if (!isStandby(g.labels)) out.push({ ...g, [UPSTREAM_FIELD]: upstream });
  return out;
}
