import { pino, type Logger } from "pino";

export type { Logger };

/** Structured JSON logs on stdout (or on `destination`, for tests). */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { service: "dyshard" }, timestamp: pino.stdTimeFunctions.isoTime }, destination as never);
}
