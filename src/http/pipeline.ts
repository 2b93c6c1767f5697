// A request passes named steps in order until one answers it (node-http-proxy's passes). A step
// returns NEXT to hand the request on, or what it answered with: nothing (answered at once) or
// the promise of an answer being written.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestContext } from "./context.js";

export const NEXT = Symbol("next step");

export type StepResult = Promise<void> | undefined | typeof NEXT;

export interface Step {
  readonly name: string;
  run(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): StepResult;
}

/** Runs the steps; the last one must answer. */
export function runPipeline(
  steps: readonly Step[],
  ctx: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> | undefined {
  for (const step of steps) {
    const result = step.run(ctx, req, res);
    if (result !== NEXT) return result;
  }
  throw new Error(`no step answered ${req.method ?? ""} ${req.url ?? ""}`);
}
