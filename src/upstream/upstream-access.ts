// What dyshard presents to its upstreams, in one place: the trust for https ones (--upstream-ca,
// or none with --upstream-insecure-skip-verify) and the credential it sends (--upstream-auth-file,
// ./credentials.ts). Every client that talks to a Pushgateway reads it here: the three engines
// (and so the standby writes), the health checks, the handover's PushgatewayClient and the static
// provider's start-up check.
import { Agent, getGlobalDispatcher, type Dispatcher } from "undici";
import { isHeader } from "../proxy/headers.js";
import { NO_CREDENTIALS, upstreamKey, type Credentials } from "./credentials.js";

/** Options of tls.connect, undici's `connect` and https.Agent alike. */
export interface UpstreamTls {
  /** PEM CA certificates; undefined: the system's. */
  ca?: Buffer;
  rejectUnauthorized: boolean;
}

export class UpstreamAccess {
  /** No file given: the system's CAs, verification on, no credential. */
  static readonly DEFAULT = new UpstreamAccess({ rejectUnauthorized: true });

  private shared: Agent | undefined;

  constructor(
    readonly tls: UpstreamTls,
    private readonly credentials: Credentials = NO_CREDENTIALS,
  ) {}

  /** Whether any request to an upstream carries dyshard's credential (the client's Authorization is then replaced). */
  get sendsCredentials(): boolean {
    return this.credentials.fallback !== undefined || this.credentials.byUrl.size > 0;
  }

  /** The upstream URLs the credentials file names one by one. */
  namedUpstreams(): string[] {
    return [...this.credentials.byUrl.keys()];
  }

  /** The Authorization header value for requests to the upstream at `url`, if it has one. */
  authorization(url: string): string | undefined {
    const { byUrl, fallback } = this.credentials;
    if (byUrl.size === 0) return fallback;
    return byUrl.get(upstreamKey(url) ?? url) ?? fallback;
  }

  /** A raw header list for a request to `url`: any Authorization the client sent replaced by the upstream's own. */
  headers(url: string, raw: readonly string[]): string[] {
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2)
      if (!isHeader(raw[i] as string, "authorization")) out.push(raw[i] as string, raw[i + 1] as string);
    const value = this.authorization(url);
    if (value !== undefined) out.push("authorization", value);
    return out;
  }

  /** Header object for undici's request(): `extra` plus the upstream's Authorization. */
  headerObject(url: string, extra: Record<string, string> = {}): Record<string, string> {
    const value = this.authorization(url);
    return value === undefined ? extra : { ...extra, authorization: value };
  }

  /** A new undici Agent that verifies https upstreams as configured. */
  agent(options: Agent.Options = {}): Agent {
    return new Agent({ ...options, connect: { ...this.tls } });
  }

  /** For the light requests (health checks, the start-up check): undici's global one when nothing is configured, else one Agent made when first asked. */
  get dispatcher(): Dispatcher {
    if (this === UpstreamAccess.DEFAULT) return getGlobalDispatcher();
    return (this.shared ??= this.agent());
  }

  /** The same trust without the credential: for servers that are not upstreams (the --prometheus servers). */
  withoutCredentials(): UpstreamAccess {
    return this.sendsCredentials ? new UpstreamAccess(this.tls) : this;
  }
}
