// GET /metrics: dyshard's own metrics (with --workers, the primary's and every worker's together).
import type { Endpoint } from "./endpoint.js";
import { GET_METHODS, GET_REFUSED } from "./get-only.js";

export const metrics: Endpoint = {
  path: "/metrics",
  methods: GET_METHODS,
  refused: GET_REFUSED,
  async serve({ control }, _target, res) {
    const { contentType, text } = await control.metrics();
    res.writeHead(200, { "content-type": contentType }).end(text);
  },
};
