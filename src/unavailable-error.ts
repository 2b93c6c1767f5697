// A request dyshard cannot serve yet or any more (starting up, stopping): answered 503, not 500,
// so that a client or a load balancer retries elsewhere or later.
export class UnavailableError extends Error {
  readonly status = 503;
  override readonly name = "UnavailableError";
}
