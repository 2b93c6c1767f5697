// The route decision for one request: which group it pushes, and its routing key, or the answer
// the Pushgateway would give without storing anything. Pure: no I/O, no clock.
import {
  commonRoutingKey,
  groupOf,
  parseCommon,
  parseExactly,
  routingKey,
  type CommonPush,
  type GroupingKey,
  type ShardBy,
} from "../pushgateway/grouping-key.js";

export type Route =
  /** `emptyValues`: some grouping label is empty (`{job=x,instance=""}`, the twin of `{job=x}`). */
  | { kind: "push"; group: GroupingKey; key: string; emptyValues: boolean }
  | { kind: "answer"; status: number; body: string; headers: Record<string, string> }
  | { kind: "other" };

const PUSH_METHODS = new Set(["PUT", "POST", "DELETE"]);
const ALLOW = "DELETE, OPTIONS, POST, PUT";

export function route(method: string, target: string, shardBy: ShardBy): Route {
  const common = PUSH_METHODS.has(method) ? parseCommon(target) : undefined;
  if (common) return new CommonRoute(common, shardBy);
  const parsed = parseExactly(target); // the fast lane declined (or this is no push): parse exactly, once

  if (parsed.kind === "other") return parsed;
  if (!PUSH_METHODS.has(method) && !(parsed.kind === "reject" && parsed.early)) {
    // A path no push route matches as spelled (wrong case, empty job): httprouter only redirects
    // within the request method's own route tree, so other methods get its 404.
    if (parsed.kind === "reject" && (parsed.status === 307 || parsed.status === 404)) return text(404, "404 page not found");
    // httprouter answers these before the push handler parses anything.
    if (method === "OPTIONS") return { kind: "answer", status: 200, body: "", headers: { allow: ALLOW } };
    const answer = text(405, "Method Not Allowed");
    answer.headers.allow = ALLOW;
    return answer;
  }
  if (parsed.kind === "reject") {
    if (parsed.location !== undefined) return { kind: "answer", status: parsed.status, body: "", headers: { location: parsed.location } };
    // net/http's own 400 for a malformed request target has no trailing newline (it is not http.Error).
    if (parsed.early)
      return { kind: "answer", status: parsed.status, body: parsed.message, headers: { "content-type": "text/plain; charset=utf-8" } };
    return text(parsed.status, parsed.message);
  }
  const emptyValues = Object.values(parsed.group.labels).includes("");
  return { kind: "push", group: parsed.group, key: routingKey(parsed.group, shardBy), emptyValues };
}

/** The common case: the key at once, the group only if someone asks (the CLI does; pushes do not). */
class CommonRoute {
  readonly kind = "push" as const;
  readonly key: string;
  private cached: GroupingKey | undefined;
  constructor(
    private readonly common: CommonPush,
    shardBy: ShardBy,
  ) {
    this.key = commonRoutingKey(common, shardBy);
  }
  get group(): GroupingKey {
    return (this.cached ??= groupOf(this.common));
  }
  get emptyValues(): boolean {
    return this.common.values.includes("");
  }
}

type Answer = Extract<Route, { kind: "answer" }>;

function text(status: number, message: string): Answer {
  return { kind: "answer", status, body: message + "\n", headers: { "content-type": "text/plain; charset=utf-8" } };
}
