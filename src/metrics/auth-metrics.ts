// Requests refused for want of a valid credential (--push-auth-file, --admin-auth-file), counted
// in plain numbers and handed to prom-client when scraped, as the push counts are.
import { Counter, type Registry } from "prom-client";

export type Realm = "push" | "admin";

/** Registers dyshard_auth_failures_total; returns what counts one failure. */
export function authMetrics(registry: Registry): (realm: Realm) => void {
  const failures: Record<Realm, number> = { push: 0, admin: 0 };
  new Counter({
    name: "dyshard_auth_failures_total",
    help: "Requests answered 401: no credential or a wrong one, by realm (push: --push-auth-file, admin: --admin-auth-file).",
    labelNames: ["realm"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const realm of ["push", "admin"] as const) if (failures[realm] > 0) this.inc({ realm }, failures[realm]);
    },
  });
  return (realm) => {
    failures[realm]++;
  };
}
