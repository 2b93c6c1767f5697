// One of dyshard's own endpoints, as registered in the table (src/endpoints/table.ts). Types only.
import type { ServerResponse } from "node:http";
import type { RequestContext } from "../http/context.js";

export interface Endpoint {
  path: string;
  /** Methods it serves; any other gets `refused`. */
  methods: readonly string[];
  /** The 405 for another method: its Allow header and body. */
  refused: { allow: string; body: string };
  /** With --admin-auth-file, served only with the admin credential (else with --push-auth-file's). */
  admin?: boolean;
  /** Served without a credential whatever the auth files say: load balancers and probes carry none. */
  open?: boolean;
  /** `target` is the request target, query included. */
  serve(ctx: RequestContext, target: string, res: ServerResponse): Promise<void> | void;
}
