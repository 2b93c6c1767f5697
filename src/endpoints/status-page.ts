// GET /-/dyshard/: the status page, one static file (static/status.html: no build step, no
// external assets) that reads /-/dyshard/status and refreshes itself.
import { readFileSync } from "node:fs";
import type { Endpoint } from "./endpoint.js";
import { GET_METHODS, GET_REFUSED } from "./get-only.js";

const PAGE = new URL("../../../static/status.html", import.meta.url);
let page: Buffer | undefined;

export const statusPage: Endpoint = {
  path: "/-/dyshard/",
  methods: GET_METHODS,
  refused: GET_REFUSED,
  serve(_ctx, _target, res) {
    page ??= readFileSync(PAGE);
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" }).end(page);
  },
};
