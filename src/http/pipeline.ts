// A request passes named steps in order until one answers it (node-http-proxy's passes). A step
// returns NEXT to hand the request on, or what it answered with: nothing (answered at once) or
// the promise of an answer being written; or, when its decision takes time (a bcrypt compare in
// steps/authenticate.ts), `{ later }`: NEXT or answered, once the promise settles.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestContext } from "./context.js";

export const NEXT = Symbol("next step");

/** A decision that takes time: NEXT hands the request on, undefined means answered. */
export interface Later {
  readonly later: Promise<typeof NEXT | undefined>;
}

export type StepResult = Promise<void> | undefined | typeof NEXT | Later;

export interface Step {
  readonly name: string;
  run(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): StepResult;
}

/** Runs the steps (from the `from`th on); the last one must answer. */
export function runPipeline(
  steps: readonly Step[],
  ctx: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
  from = 0,
): Promise<void> | undefined {
  for (let i = from; i < steps.length; i++) {
    const result = (steps[i] as Step).run(ctx, req, res);
    if (result === NEXT) continue;
    if (result !== undefined && "later" in result)
      return result.later.then((then) => (then === NEXT ? runPipeline(steps, ctx, req, res, i + 1) : undefined));
    return result;
  }
  throw new Error(`no step answered ${req.method ?? ""} ${req.url ?? ""}`);
}
