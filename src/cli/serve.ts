// `dyshard serve`: routes pushes until SIGTERM or SIGINT, then stops within --shutdown-timeout.
// With --tls-cert, SIGHUP reads the certificate and key again (the primary of --workers tells its workers).
import cluster from "node:cluster";
import type { Command } from "commander";
import { createLogger } from "../core/logger.js";
import { startApp } from "../runtime/single-process.js";
import { startPrimary } from "../runtime/workers/primary.js";
import { startWorker } from "../runtime/workers/worker.js";
import { configFrom, fail, settingsOptions } from "./options.js";

/** What the stop steps may take beyond --shutdown-timeout (closing pools, logging) before the process exits anyway. */
const SHUTDOWN_MARGIN_MS = 1000;

export function serveCommand(program: Command): void {
  settingsOptions(program.command("serve").description("route pushes to the Pushgateways")).action(
    async (opts: Record<string, unknown>) => {
      const config = configFrom(opts);
      const log = createLogger(config.logLevel);
      const start = async (): Promise<{ reload(): unknown; stop(): Promise<void> }> => {
        if (config.workers === 1) return startApp(config, log);
        return cluster.isPrimary ? startPrimary(config, config.workers, log) : startWorker(config, log.child({ worker: process.pid }));
      };
      const starting = start().catch((err: Error) => fail(err.message));
      // Installed before start-up ends (it waits for Consul), so an early SIGTERM still stops cleanly.
      let signals = 0;
      const shutdown = async (signal: string) => {
        if (signals++ > 0) process.exit(1); // a second signal: stop waiting
        // The stop steps are bounded by the shutdown timeout; whatever still hangs after it (a stopped
        // upstream that holds a pool's close, Consul) must not keep the process alive.
        setTimeout(() => {
          log.error(
            { shutdown_timeout_ms: config.limits.shutdownTimeoutMs },
            "stopping took longer than the shutdown timeout; exiting now",
          );
          process.exit(1);
        }, config.limits.shutdownTimeoutMs + SHUTDOWN_MARGIN_MS).unref();
        const app = await starting;
        if (cluster.isPrimary) log.info({ signal }, "shutting down: no new connections, letting in-flight requests finish");
        await app.stop();
        process.exit(0);
      };
      process.on("SIGTERM", () => void shutdown("SIGTERM"));
      process.on("SIGINT", () => void shutdown("SIGINT"));
      if (config.tls.certFile) process.on("SIGHUP", () => void starting.then((app) => app.reload()));
      await starting;
    },
  );
}
