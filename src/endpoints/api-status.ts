// GET /api/v1/status: dyshard's own build, settings and start time in the Pushgateway's shape, and
// every instance's own /api/v1/status answer (or why there is none) under `upstreams`.
import { readFileSync } from "node:fs";
import { json } from "../http/answers.js";
import { fanOut, fanOutOptions } from "../ops/fan-out.js";
import type { Endpoint } from "./endpoint.js";
import { GET_METHODS, GET_REFUSED } from "./get-only.js";

const STARTED = new Date().toISOString();

export const apiStatus: Endpoint = {
  path: "/api/v1/status",
  methods: GET_METHODS,
  refused: GET_REFUSED,
  async serve({ config, membership, upstreamApi }, _target, res) {
    const members = membership.active();
    const { answers, errors } = await fanOut(members, fanOutOptions(config), (url, signal) => upstreamApi.status(url, signal));
    const upstreams = members.map((m) => {
      const answer = answers.find((a) => a.upstream === m.url);
      const error = errors.find((e) => e.upstream === m.url)?.error;
      return { upstream: m.url, slot: m.slot, healthy: m.healthy, ...(answer ? { status: answer.value } : { error }) };
    });
    const data = { build_information: buildInformation(), flags: config.settings, start_time: STARTED, upstreams };
    json(res, 200, { status: "success", data, errors });
  },
};

let build: Record<string, string> | undefined;

/** dyshard's version (package.json, read once) and the Node.js that runs it. */
function buildInformation(): Record<string, string> {
  if (build) return build;
  let version = "unknown";
  try {
    // dist/src/endpoints/ → the package's root.
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: string };
    version = pkg.version ?? version;
  } catch {
    // Run from elsewhere than a checkout or the package: the version stays unknown.
  }
  return (build = { version, nodeVersion: process.version, platform: `${process.platform}/${process.arch}` });
}
