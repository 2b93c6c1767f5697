// `dyshard route PATH...`: where each push path would go, every upstream taken as healthy.
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { Membership } from "../membership/membership.js";
import { loadHash64 } from "../routing/hash.js";
import { route } from "../routing/route.js";
import { configFrom, fail, settingsOptions } from "./options.js";

export function routeCommand(program: Command): void {
  settingsOptions(
    program.command("route").description("print where each push path would be routed (every upstream taken as healthy; contacts nothing)"),
    ["upstreams", "shard_by", "replicas"],
  )
    .argument("[paths...]", "push paths such as /metrics/job/j/instance/a (default: one per line on standard input)")
    .action(async (paths: string[], opts: Record<string, unknown>) => {
      const config = configFrom(opts);
      if (config.upstreams.filter((u) => !u.retired).length === 0)
        fail("no upstreams configured: give at least one --upstream URL (or upstreams: in the config file)");
      const membership = new Membership(config.upstreams, await loadHash64());
      let rejected = 0;
      const one = (path: string) => {
        const r = route("PUT", path, config.shardBy);
        if (r.kind === "push") {
          const owner = membership.owner(r.key);
          const line = {
            path,
            job: r.group.job,
            labels: r.group.labels,
            key: r.key,
            slot: owner?.slot ?? null,
            upstream: owner?.url ?? null,
          };
          if (config.replicas === 1) return line;
          const standbys = membership.ring.owners(r.key, config.replicas).slice(1);
          return { ...line, standbys: standbys.map((slot) => membership.members[slot]?.url ?? null) };
        }
        rejected++;
        if (r.kind === "other") return { path, status: 404, error: "not a push path (expected /metrics/job/<JOB>{/<LABEL>/<VALUE>})" };
        return { path, status: r.status, error: r.body.trim() || `redirect to ${r.headers.location}` };
      };
      const out = (path: string) => process.stdout.write(JSON.stringify(one(path)) + "\n");
      if (paths.length > 0) paths.forEach(out);
      else for await (const line of createInterface({ input: process.stdin })) if (line.trim()) out(line.trim());
      process.exitCode = rejected > 0 ? 1 : 0;
    });
}
