// GET /-/dyshard/ring: the ring as this dyshard routes on it, slot by slot.
import { json } from "../http/answers.js";
import { ringView } from "../membership/ring-view.js";
import type { Endpoint } from "./endpoint.js";
import { GET_METHODS, GET_REFUSED } from "./get-only.js";

export const ring: Endpoint = {
  path: "/-/dyshard/ring",
  methods: GET_METHODS,
  refused: GET_REFUSED,
  async serve(ctx, _target, res) {
    // Only with --prometheus is there more to show (with --workers, asked of the primary); still starting: the ring alone.
    const scrape = ctx.config.prometheus.length > 0 ? await ctx.control.scrape().catch(() => undefined) : undefined;
    json(res, 200, { ...ringView(ctx.config, ctx.membership), ...(scrape ? { prometheus: scrape } : {}) });
  },
};
