// With --upstream-auth-file: every request an engine sends upstream carries dyshard's credential
// for that upstream, in place of any Authorization header the client sent. Wrapped around the
// engine only when there is a credential, so the push path pays nothing otherwise.
import type { ServerResponse } from "node:http";
import type { UpstreamAccess } from "../../upstream/upstream-access.js";
import type { AttemptResult, Engine, UpstreamRequest } from "./engine.js";

export class CredentialedEngine implements Engine {
  readonly name: string;

  constructor(
    private readonly inner: Engine,
    private readonly access: UpstreamAccess,
  ) {
    this.name = inner.name;
  }

  forward(upstreamUrl: string, req: UpstreamRequest, res: ServerResponse): Promise<AttemptResult> {
    return this.inner.forward(upstreamUrl, { ...req, headers: this.access.headers(upstreamUrl, req.headers) }, res);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
