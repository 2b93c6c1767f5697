// The last step: a push path goes to the push endpoint (or gets the Pushgateway's own answer for
// a path it refuses), anything else to dyshard's endpoint table.
import { route } from "../../routing/route.js";
import { servePush } from "../../endpoints/push.js";
import { serveOwn } from "../../endpoints/table.js";
import type { Step } from "../pipeline.js";

export const dispatch: Step = {
  name: "dispatch",
  run(ctx, req, res) {
    const method = req.method ?? "GET";
    const target = req.url ?? "/";
    const r = route(method, target, ctx.config.shardBy);
    if (r.kind === "other") return serveOwn(ctx, method, target, res);
    return servePush(ctx, req, res, r);
  },
};
