// Engines are loaded only when chosen: a dyshard carries one in memory. A new engine is a class
// implementing Engine (./engine.ts), named here and in the schema's `engine` enum. Each verifies
// https upstreams as `access.tls` says; with --upstream-auth-file every request it sends carries
// the upstream's credential (./credentialed-engine.ts), the standby writes' included.
import type { Config } from "../../config/schema.js";
import { UpstreamAccess } from "../../upstream/upstream-access.js";
import { CredentialedEngine } from "./credentialed-engine.js";
import type { Engine } from "./engine.js";

export async function createEngine(name: Config["engine"], timeoutMs: number, access = UpstreamAccess.DEFAULT): Promise<Engine> {
  const engine = await bare(name, timeoutMs, access);
  return access.sendsCredentials ? new CredentialedEngine(engine, access) : engine;
}

async function bare(name: Config["engine"], timeoutMs: number, access: UpstreamAccess): Promise<Engine> {
  switch (name) {
    case "undici":
      return new (await import("./undici-engine.js")).UndiciEngine(timeoutMs, access.tls);
    case "native":
      return new (await import("./native-engine.js")).NativeEngine(timeoutMs, access.tls);
    case "http-proxy":
      return new (await import("./http-proxy-engine.js")).HttpProxyEngine(timeoutMs, access.tls);
  }
}
