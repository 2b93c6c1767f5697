// GET /-/dyshard/status: what the status page draws (src/http/status-view.ts), as JSON; with
// --workers, the primary's. 503 while dyshard starts or stops.
import { UnavailableError } from "../core/unavailable-error.js";
import { json, text } from "../http/answers.js";
import type { Endpoint } from "./endpoint.js";
import { GET_METHODS, GET_REFUSED } from "./get-only.js";

export const status: Endpoint = {
  path: "/-/dyshard/status",
  methods: GET_METHODS,
  refused: GET_REFUSED,
  async serve({ control }, _target, res) {
    const view = await control.status().catch((err: unknown) => {
      if (!(err instanceof UnavailableError)) throw err;
      text(res, 503, `${err.message}\n`);
    });
    if (view) json(res, 200, view);
  },
};
