// The cause of an I/O error in words, for logs, answers and /-/dyshard/ring: what happened, with
// the code in brackets for searching. A bare code ("23", "ECONNREFUSED") tells an operator little.

const DESCRIBED: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by the peer",
  ECONNABORTED: "connection aborted",
  EPIPE: "connection closed while sending",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EHOSTDOWN: "host is down",
  EADDRNOTAVAIL: "address not available",
  EADDRINUSE: "address already in use",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed for now",
  EPROTO: "protocol error",
  ERR_SSL_WRONG_VERSION_NUMBER: "TLS handshake failed (is the upstream plain HTTP?)",
  CERT_HAS_EXPIRED: "certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "self-signed certificate",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "certificate cannot be verified (not signed by a CA of --upstream-ca or the system's)",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "certificate not signed by a trusted CA (give its CA with --upstream-ca)",
  SELF_SIGNED_CERT_IN_CHAIN: "certificate chain ends in an untrusted CA (give it with --upstream-ca)",
  CERT_NOT_YET_VALID: "certificate is not valid yet",
  UND_ERR_SOCKET: "connection closed by the peer",
  UND_ERR_CLOSED: "client closed",
  UND_ERR_DESTROYED: "request destroyed",
  UND_ERR_ABORTED: "request aborted",
  UND_ERR_INFO: "unexpected informational answer",
  UND_ERR_HEADERS_OVERFLOW: "answer headers too large",
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: "request body length differs from its Content-Length",
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: "answer body length differs from its Content-Length",
  UND_ERR_NOT_SUPPORTED: "not supported",
  UND_ERR_INVALID_ARG: "invalid request",
  HPE_INVALID_RESPONSE: "invalid HTTP answer",
  ERR_INVALID_URL: "invalid URL",
};

/** dyshard's own codes, stable for logs and tests whichever engine or library failed. */
export const Codes = {
  /** An upstream did not answer within --upstream-timeout (every engine reports it so). */
  UPSTREAM_TIMEOUT: "DYSHARD_UPSTREAM_TIMEOUT",
  /** dyshard cannot serve this yet or any more (starting, stopping, its primary gone): a 503. */
  UNAVAILABLE: "DYSHARD_UNAVAILABLE",
  /** The other process of --workers did not reply in time. */
  IPC_TIMEOUT: "DYSHARD_IPC_TIMEOUT",
  /** A --push-auth-file or --admin-auth-file that cannot be read or is malformed: dyshard refuses to start. */
  AUTH_FILE: "DYSHARD_AUTH_FILE",
  /** A file a setting names (--tls-cert, --tls-key, --upstream-ca, --upstream-auth-file) cannot be read or used. */
  BAD_FILE: "DYSHARD_BAD_FILE",
} as const;

/** Codes that mean "no answer in time"; their text names the limit when it is known. */
const TIMEOUTS = new Set([
  Codes.UPSTREAM_TIMEOUT,
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "ETIMEDOUT",
]);

/** A failure's code: its own, or its cause's (fetch and undici wrap the socket's error). */
export function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === "string" ? code : undefined;
}

/** No answer in time: dyshard's own timeout, or undici's (the undici engine reports its own). */
export function isUpstreamTimeout(err: unknown): boolean {
  const code = errorCode(err);
  return code === Codes.UPSTREAM_TIMEOUT || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT";
}

const CONNECTION_FAILURES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

/** Failures that mean "the upstream is not there": the push did not reach it, so it can go elsewhere. */
export function isConnectionFailure(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && CONNECTION_FAILURES.has(code);
}

/** An upstream timeout, built only when one happens (a stack trace costs microseconds). */
export function upstreamTimeout(timeoutMs: number): Error {
  return Object.assign(new Error(`upstream did not answer within ${timeoutMs}ms`), { code: Codes.UPSTREAM_TIMEOUT });
}

/** A setting's file that cannot be used; `message` names the file, never a secret in it. */
export function badFile(message: string): Error {
  return Object.assign(new Error(message), { code: Codes.BAD_FILE });
}

interface ErrorLike {
  name?: string;
  code?: string | number;
  message?: string;
  cause?: ErrorLike;
}

/**
 * What went wrong, e.g. "connection refused (ECONNREFUSED)" or "timed out after 1000ms".
 * `timeoutMs` is the limit the caller set, named when the error is a timeout.
 */
export function errorText(err: unknown, timeoutMs?: number): string {
  const e = (err ?? {}) as ErrorLike;
  // fetch and undici wrap the socket's error: the cause says more.
  const inner = e.cause && typeof e.cause === "object" && e.cause.code !== undefined ? e.cause : e;
  const name = inner.name ?? e.name;
  // AbortSignal.timeout() rejects with a DOMException whose numeric code (23) means nothing to a reader.
  if (name === "TimeoutError" || (typeof inner.code === "string" && TIMEOUTS.has(inner.code))) {
    const code = typeof inner.code === "string" ? ` (${inner.code})` : "";
    return timeoutMs === undefined ? `timed out${code}` : `timed out after ${timeoutMs}ms${code}`;
  }
  if (name === "AbortError") return "aborted";
  const code = typeof inner.code === "string" ? inner.code : undefined;
  if (code !== undefined) {
    const said = DESCRIBED[code];
    if (said) return `${said} (${code})`;
    return inner.message && !inner.message.includes(code) ? `${inner.message} (${code})` : (inner.message ?? code);
  }
  return inner.message || e.message || String(err);
}
