// With --push-auth-file or --admin-auth-file: a request a guard covers passes only with a valid
// credential, else 401 with the realm's challenge; /-/healthy and /-/ready stay open (load
// balancers and probes carry none). A push's Authorization header is dyshard's credential, so it
// is taken off before the push is forwarded. Without either file this step costs one check.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Guard } from "../../auth/guard.js";
import type { Guards } from "../../auth/guards.js";
import { UnavailableError } from "../../core/unavailable-error.js";
import { endpointAt } from "../../endpoints/table.js";
import { isHeader } from "../../proxy/headers.js";
import { text } from "../answers.js";
import type { RequestContext } from "../context.js";
import { NEXT, type Step } from "../pipeline.js";

export const authenticate: Step = {
  name: "authenticate",
  run(ctx, req, res) {
    const { guards } = ctx;
    if (guards.push === undefined && guards.admin === undefined) return NEXT;
    const guard = guardFor(guards, req.url ?? "/");
    if (guard === undefined) return NEXT;
    const given = authorization(req.rawHeaders);
    const verdict = guard.check(given);
    if (typeof verdict === "boolean") return decide(ctx, guard, verdict, given, req, res);
    return {
      later: verdict.then(
        (ok) => decide(ctx, guard, ok, given, req, res),
        (err: unknown) => busy(err, res),
      ),
    };
  },
};

/** The guard of a request target: none for the open endpoints, the admin one for admin endpoints. */
function guardFor(guards: Guards, target: string): Guard | undefined {
  const q = target.indexOf("?");
  const endpoint = endpointAt(q < 0 ? target : target.slice(0, q));
  if (endpoint?.open) return undefined;
  if (endpoint?.admin) return guards.admin ?? guards.push;
  return guards.push;
}

function decide(ctx: RequestContext, guard: Guard, ok: boolean, given: string | undefined, req: IncomingMessage, res: ServerResponse) {
  if (ok) {
    if (guard.realm === "push") dropAuthorization(req.rawHeaders);
    return NEXT;
  }
  ctx.metrics.authFailure(guard.realm);
  ctx.log.debug({ realm: guard.realm, remote: req.socket.remoteAddress, given: given !== undefined }, "refused: no valid credential");
  res.setHeader("www-authenticate", guard.challenges);
  text(res, 401, given === undefined ? "Unauthorized: this needs a credential\n" : "Unauthorized: wrong credential\n");
  return undefined;
}

/** Too many checks waiting (src/auth/bcrypt-pool.ts): 503, so the client tries again; anything else is a 500. */
function busy(err: unknown, res: ServerResponse): undefined {
  if (!(err instanceof UnavailableError)) throw err;
  text(res, 503, `${err.message}\n`);
  return undefined;
}

function authorization(raw: string[]): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (isHeader(raw[i] as string, "authorization")) return raw[i + 1];
  return undefined;
}

/** In place: every engine and the standby writer read the raw list. */
function dropAuthorization(raw: string[]): void {
  for (let i = raw.length - 2; i >= 0; i -= 2) if (isHeader(raw[i] as string, "authorization")) raw.splice(i, 2);
}
