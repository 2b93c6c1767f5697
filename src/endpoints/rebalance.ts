// POST /-/dyshard/rebalance[?dry_run=1]: one handover run now (or its plan), its report as JSON;
// 500 when anything failed, 503 while dyshard starts or stops.
import { UnavailableError } from "../core/unavailable-error.js";
import { json, text } from "../http/answers.js";
import type { Endpoint } from "./endpoint.js";

export const rebalance: Endpoint = {
  path: "/-/dyshard/rebalance",
  methods: ["POST"],
  admin: true,
  refused: { allow: "POST", body: "use POST to run a handover (add ?dry_run=1 for the plan only)\n" },
  async serve({ control }, target, res) {
    const dryRun = /[?&]dry_run=(1|true)\b/.test(target);
    const report = await control.rebalance(dryRun).catch((err: unknown) => {
      if (!(err instanceof UnavailableError)) throw err;
      text(res, 503, `${err.message}\n`);
    });
    if (report) json(res, report.failed > 0 || report.errors.length > 0 ? 500 : 200, report);
  },
};
