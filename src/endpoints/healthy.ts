// GET /-/healthy: the process is up (as the Pushgateway's own).
import { text } from "../http/answers.js";
import type { Endpoint } from "./endpoint.js";
import { GET_METHODS, GET_REFUSED } from "./get-only.js";

export const healthy: Endpoint = {
  path: "/-/healthy",
  methods: GET_METHODS,
  open: true,
  refused: GET_REFUSED,
  serve(_ctx, _target, res) {
    text(res, 200, "OK\n");
  },
};
