// PUT /api/v1/admin/wipe: every group on every instance gone, as the Pushgateway's own (202). Off
// unless --enable-admin-api (403). Only healthy instances are asked; the others, and any that
// fails, are named in a 502 answer, so a wipe that did not reach everything never looks complete.
import { json, text } from "../http/answers.js";
import { fanOut, fanOutOptions } from "../ops/fan-out.js";
import type { Endpoint } from "./endpoint.js";

export const ADMIN_API_OFF =
  "the admin API is off: start dyshard with --enable-admin-api (DYSHARD_ENABLE_ADMIN_API=true) to wipe every instance\n";

export const apiWipe: Endpoint = {
  path: "/api/v1/admin/wipe",
  methods: ["PUT"],
  // The Pushgateway's router: PUT only.
  refused: { allow: "OPTIONS, PUT", body: "Method Not Allowed\n" },
  admin: true,
  async serve({ config, membership, upstreamApi, log }, _target, res) {
    if (!config.enableAdminApi) return text(res, 403, ADMIN_API_OFF);
    const { answers, errors } = await fanOut(membership.active(), fanOutOptions(config), (url, signal) => upstreamApi.wipe(url, signal));
    const wiped = answers.map((a) => a.upstream);
    log.warn({ wiped, errors }, "admin wipe");
    if (errors.length === 0) {
      res.writeHead(202, { "content-length": "0" }).end();
      return;
    }
    json(res, 502, { status: "error", error: `wiped ${wiped.length} of ${wiped.length + errors.length} instances`, wiped, errors });
  },
};
