// A standby copy (--replicas R ≥ 2) is the group with one more grouping label, dyshard_replica="1",
// pushed to the instance that would own the group if the ones before it failed (Ring.owners).
// Prometheus drops every series carrying the label (the generated config's metric_relabel_configs),
// so a standby copy is never ingested; a client may not push the label itself. Pure.

export const REPLICA_LABEL = "dyshard_replica";
export const REPLICA_VALUE = "1";

export function isStandby(labels: Readonly<Record<string, string>>): boolean {
  return labels[REPLICA_LABEL] === REPLICA_VALUE;
}

/** The labels of the standby copy of a group. */
export function standbyLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  return { ...labels, [REPLICA_LABEL]: REPLICA_VALUE };
}

/** The labels of the group a copy belongs to (a standby copy's without the replica label). */
export function primaryLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  if (!(REPLICA_LABEL in labels)) return { ...labels };
  const { [REPLICA_LABEL]: _replica, ...rest } = labels;
  return rest;
}
