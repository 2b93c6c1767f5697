// GET /api/v1/metrics: the Pushgateway's own API across every instance, in its own shape (tools
// that read a Pushgateway keep working): each group with the instance holding it (dyshard_upstream),
// standby copies left out, and the instances that did not answer in `errors`. 503 when none answered.
import { fanOut, fanOutOptions } from "../ops/fan-out.js";
import { mergeGroups } from "../ops/merge-groups.js";
import type { Endpoint } from "./endpoint.js";
import { GET_METHODS, GET_REFUSED } from "./get-only.js";

export const apiMetrics: Endpoint = {
  path: "/api/v1/metrics",
  methods: GET_METHODS,
  refused: GET_REFUSED,
  async serve({ config, membership, upstreamApi }, _target, res) {
    const { answers, errors } = await fanOut(membership.active(), fanOutOptions(config), (url, signal) => upstreamApi.groups(url, signal));
    const none = answers.length === 0;
    const body = { status: none ? "error" : "success", data: mergeGroups(answers), errors };
    // Compact, as the Pushgateway writes it: the merged answer of a large ring runs to megabytes.
    res.writeHead(none ? 503 : 200, { "content-type": "application/json" }).end(JSON.stringify(body));
  },
};
