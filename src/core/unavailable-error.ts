// A request dyshard cannot serve yet or any more (starting up, stopping, its primary gone): answered
// 503, not 500, so that a client or a load balancer retries elsewhere or later.
import { Codes } from "./errors.js";

export class UnavailableError extends Error {
  readonly status = 503;
  readonly code: string = Codes.UNAVAILABLE;
  override readonly name: string = "UnavailableError";
}
