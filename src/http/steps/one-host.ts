// Two Host headers: Go refuses the request before routing it (RFC 9112 §3.2 allows one).
import { isHeader } from "../../proxy/headers.js";
import { badRequest } from "../answers.js";
import { NEXT, type Step } from "../pipeline.js";

export const oneHost: Step = {
  name: "one Host header",
  run(_ctx, req, res) {
    if (!twoHosts(req.rawHeaders)) return NEXT;
    badRequest(res);
    return undefined;
  },
};

function twoHosts(raw: string[]): boolean {
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) if (isHeader(raw[i] as string, "host") && ++seen > 1) return true;
  return false;
}
