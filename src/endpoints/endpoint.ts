// One of dyshard's own endpoints, as registered in the table (src/endpoints/table.ts). Types only.
import type { ServerResponse } from "node:http";
import type { RequestContext } from "../http/context.js";

export interface Endpoint {
  path: string;
  /** Methods it serves; any other gets `refused`. */
  methods: readonly string[];
  /** The 405 for another method: its Allow header and body. */
  refused: { allow: string; body: string };
  /** An admin endpoint (it changes what the instances hold): refused unless the admin API is allowed. */
  admin?: boolean;
  /** `target` is the request target, query included. */
  serve(ctx: RequestContext, target: string, res: ServerResponse): Promise<void> | void;
}
