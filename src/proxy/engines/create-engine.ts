// Engines are loaded only when chosen: a dyshard carries one in memory. A new engine is a class
// implementing Engine (./engine.ts), named here and in the schema's `engine` enum.
import type { Config } from "../../config/schema.js";
import type { Engine } from "./engine.js";

export async function createEngine(name: Config["engine"], timeoutMs: number): Promise<Engine> {
  switch (name) {
    case "undici":
      return new (await import("./undici-engine.js")).UndiciEngine(timeoutMs);
    case "native":
      return new (await import("./native-engine.js")).NativeEngine(timeoutMs);
    case "http-proxy":
      return new (await import("./http-proxy-engine.js")).HttpProxyEngine(timeoutMs);
  }
}
