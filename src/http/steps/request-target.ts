// The request target in the form the router reads (RFC 9112 §3.2): the absolute form
// (`PUT http://host/metrics/job/j`) becomes its origin form, forwarded and redirected so, as the
// Pushgateway reads it; `OPTIONS *` is Go's 200 with no body; any other target not starting with
// "/" is its 400.
import { badRequest } from "../answers.js";
import { NEXT, type Step } from "../pipeline.js";

export const requestTarget: Step = {
  name: "request target",
  run(_ctx, req, res) {
    const target = req.url ?? "/";
    if (target.charCodeAt(0) === 0x2f) return NEXT;
    const origin = originForm(target);
    if (origin !== undefined) {
      req.url = origin;
      return NEXT;
    }
    if (req.method === "OPTIONS" && target === "*") res.writeHead(200, { "content-length": "0" }).end();
    else badRequest(res);
    return undefined;
  },
};

/** The origin form of an absolute-form target; undefined for anything else not starting with "/". */
export function originForm(target: string): string | undefined {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  if (!m) return undefined;
  const rest = target.slice(m[0].length);
  return rest === "" ? "/" : rest.charCodeAt(0) === 0x2f ? rest : "/" + rest;
}
