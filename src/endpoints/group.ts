// GET /-/dyshard/group?path=/metrics/job/...: a group's routing key, its owner and standbys on the
// current ring, and where its copies actually are, read live from every instance, each judged
// ok, misplaced or duplicate (src/ops/group-copies.ts). `dyshard where` prints it.
import { text, json } from "../http/answers.js";
import type { RequestContext } from "../http/context.js";
import { fanOut, fanOutOptions } from "../ops/fan-out.js";
import { groupCopies } from "../ops/group-copies.js";
import { parsePushPath, routingKey, withoutEmptyValues, type GroupingKey } from "../pushgateway/grouping-key.js";
import type { Endpoint } from "./endpoint.js";
import { GET_METHODS, GET_REFUSED } from "./get-only.js";

const USAGE = "give the group's push path, percent-encoded: /-/dyshard/group?path=%2Fmetrics%2Fjob%2FJOB%2FLABEL%2FVALUE\n";

export const group: Endpoint = {
  path: "/-/dyshard/group",
  methods: GET_METHODS,
  refused: GET_REFUSED,
  async serve(ctx, target, res) {
    const path = new URLSearchParams(target.includes("?") ? target.slice(target.indexOf("?") + 1) : "").get("path");
    if (!path) return text(res, 400, USAGE);
    const parsed = parsePushPath(path);
    if (parsed.kind === "other") return text(res, 400, `not a push path: ${JSON.stringify(path)}\n${USAGE}`);
    if (parsed.kind === "reject") {
      const said = parsed.message || `the Pushgateway would answer ${parsed.status}, redirecting to ${parsed.location ?? "?"}`;
      return text(res, 400, said.endsWith("\n") ? said : said + "\n");
    }
    json(res, 200, await lookUp(ctx, path, withoutEmptyValues(parsed.group)));
  },
};

async function lookUp({ config, membership, upstreamApi }: RequestContext, path: string, g: GroupingKey) {
  const key = routingKey(g, config.shardBy);
  const [owner, ...standbys] = membership.ring.owners(key, config.replicas).map((slot) => membership.members[slot]?.url ?? "");
  const { answers, errors } = await fanOut(membership.active(), fanOutOptions(config), (url, signal) => upstreamApi.groups(url, signal));
  const copies = groupCopies(g, answers, owner, standbys);
  return { path, labels: { job: g.job, ...g.labels }, key, owner: owner ?? null, standbys, copies, errors };
}
