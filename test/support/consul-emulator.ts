// A Consul HTTP API emulator for tests: no Consul server can be installed on these machines.
// It follows docs/facts/consul.md and works with the npm `consul` client (2.x) unchanged:
// the agent's service/check endpoints, HTTP/TCP/TTL checks that really run, health and catalog
// reads with blocking queries, sessions and KV locks, plus test controls (check overrides, an
// outage on the same port, injected error answers, a request log).
//
// Where Consul has a floor that would make tests slow, the floor is kept by default and an option
// lowers it (check interval 1s, DeregisterCriticalServiceAfter 1m, session TTL 10s..24h).
//
// Indexes: one Raft-like counter (`index`) that moves only on visible changes. A health/catalog
// answer carries the index of the last change to that service name (node health counts for all),
// a KV answer the key's ModifyIndex (the KV table's index when the key is missing), so a blocking
// query wakes only for its own data, or on a timeout (a return is no proof of a change).
//
// Not emulated: ACLs (tokens are ignored), other datacenters (`dc` other than dc1 answers 500, as
// Consul does without a path to it), script/gRPC/alias checks (400), prepared queries, events,
// transactions. `filter` supports a subset of go-bexpr (see compileFilter), else answers 400.
import { randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import net, { type AddressInfo, type Socket } from "node:net";

export type CheckStatus = "passing" | "warning" | "critical";
const STATUSES: readonly string[] = ["passing", "warning", "critical"];

export interface ConsulEmulatorOptions {
  /** 0 (any free port) by default. */
  port?: number;
  /** How often the DeregisterCriticalServiceAfter reaper runs (Consul: 30s). */
  reaperIntervalMs?: number;
  /** Accept DeregisterCriticalServiceAfter below Consul's 1m minimum (which otherwise raises it to 1m). */
  allowShortDeregister?: boolean;
  /** Accept session TTLs below Consul's 10s minimum (otherwise: 400, as Consul). */
  allowShortSessionTtl?: boolean;
  /**
   * A session is invalidated TTL × this after its creation or last renewal. Consul waits 2×TTL
   * (its SessionTTLMultiplier), the default here; 1..2 allowed (1 makes lock tests faster).
   */
  sessionTtlMultiplier?: number;
  /** HTTP/TCP check intervals below this are raised to it (Consul: 1s, the default). */
  minCheckIntervalMs?: number;
}

export interface RequestRecord {
  method: string;
  /** The raw path, without the query string, e.g. "/v1/health/service/pg". */
  path: string;
  /** The raw query string without "?" ("" when none). */
  query: string;
  /** The status answered (undefined while pending, or if the connection was cut first). */
  status?: number;
}

export interface EmulatedCheck {
  CheckID: string;
  Name: string;
  Status: CheckStatus;
  Output: string;
  ServiceID: string;
  ServiceName: string;
  Type: string;
  /** True while setCheckStatus() holds the check (its runner is stopped). */
  overridden: boolean;
}

export interface EmulatedService {
  ID: string;
  Service: string;
  Tags: string[];
  Address: string;
  Port: number;
  Meta: Record<string, string>;
  Checks: EmulatedCheck[];
}

export interface EmulatedKv {
  Key: string;
  Value: string | null;
  Session?: string;
  LockIndex: number;
  Flags: number;
  CreateIndex: number;
  ModifyIndex: number;
}

export interface EmulatedSession {
  ID: string;
  Name: string;
  Behavior: "release" | "delete";
  TTL: string;
  LockDelayMs: number;
  /** When the emulator invalidates it unless renewed (epoch ms), undefined without a TTL. */
  expiresAt: number | undefined;
}

// ---------------------------------------------------------------------------------------------

const NODE = "emulator";
const DC = "dc1";
const SERF = "serfHealth";
const DEFAULT_WAIT_MS = 5 * 60_000;
const MAX_WAIT_MS = 10 * 60_000;
const MAX_BODY = 1024 * 1024;

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Answer {
  status?: number;
  /** X-Consul-Index; the current index when absent. */
  index?: number;
  /** JSON body; none when undefined. */
  body?: unknown;
  /** text/plain body instead (errors, status/leader is JSON though). */
  text?: string;
  /** Raw bytes (KV ?raw). */
  raw?: Buffer;
}

type Blocking = { compute: () => Answer };

interface CheckDef {
  CheckID: string;
  Name: string;
  Notes: string;
  /** "node" for serfHealth, "maintenance" for _service_maintenance:<id>: neither runs. */
  Type: "http" | "tcp" | "ttl" | "maintenance" | "node";
  HTTP?: string;
  Method?: string;
  Header?: [string, string[]][];
  Body?: string;
  TLSSkipVerify?: boolean;
  TCP?: string;
  TTL?: string;
  ttlMs?: number;
  Interval?: string;
  intervalMs?: number;
  Timeout?: string;
  timeoutMs: number;
  DeregisterCriticalServiceAfter?: string;
  deregisterAfterMs?: number;
  Status?: CheckStatus;
}

interface Check {
  def: CheckDef;
  key: string;
  /** "" for node-level checks (serfHealth, standalone checks without ServiceID). */
  serviceId: string;
  serviceName: string;
  status: CheckStatus;
  output: string;
  criticalSince: number | undefined;
  overridden: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Bumped whenever the runner is stopped or restarted: a probe answering with an old token is dropped. */
  token: number;
  createIndex: number;
  modifyIndex: number;
}

interface Service extends Omit<EmulatedService, "Checks"> {
  key: string;
  checkIds: string[];
  createIndex: number;
  modifyIndex: number;
}

interface KvEntry {
  Key: string;
  value: Buffer | null;
  Flags: number;
  Session: string | undefined;
  LockIndex: number;
  CreateIndex: number;
  ModifyIndex: number;
}

interface Session {
  ID: string;
  Name: string;
  Node: string;
  lockDelayMs: number;
  Behavior: "release" | "delete";
  TTL: string;
  ttlMs: number;
  NodeChecks: string[];
  ServiceChecks: { ID: string; Namespace: string }[] | null;
  CreateIndex: number;
  ModifyIndex: number;
  timer: NodeJS.Timeout | undefined;
  expiresAt: number | undefined;
}

interface Waiter {
  minIndex: number;
  compute: () => Answer;
  res: ServerResponse;
  timer: NodeJS.Timeout;
}

// ---------------------------------------------------------------------------------------------

export class ConsulEmulator {
  url = "";
  readonly host = "127.0.0.1";
  port = 0;
  /** Every request received, in order (including those answered by failNext). */
  readonly requests: RequestRecord[] = [];
  readonly nodeId = randomUUID();

  private readonly opts: Required<Omit<ConsulEmulatorOptions, "port">>;
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private stopped = false;
  private paused = false;
  private failQueue: number[] = [];

  private raft = 1;
  private servicesIdx = 1;
  private kvIdx = 1;
  private sessionsIdx = 1;
  private readonly svcIdx = new Map<string, number>();
  private readonly services_ = new Map<string, Service>();
  private readonly checks_ = new Map<string, Check>();
  private readonly kv = new Map<string, KvEntry>();
  private readonly tombstones = new Map<string, number>();
  private readonly lockDelays = new Map<string, number>();
  private readonly sessions_ = new Map<string, Session>();
  private readonly waiters = new Set<Waiter>();
  private notifyQueued = false;
  private readonly inflight = new Set<() => void>();
  private reaper: NodeJS.Timeout | undefined;

  private constructor(opts: ConsulEmulatorOptions) {
    const mult = opts.sessionTtlMultiplier ?? 2;
    if (!(mult >= 1 && mult <= 2)) throw new RangeError("sessionTtlMultiplier must be within 1..2");
    this.opts = {
      reaperIntervalMs: opts.reaperIntervalMs ?? 30_000,
      allowShortDeregister: opts.allowShortDeregister ?? false,
      allowShortSessionTtl: opts.allowShortSessionTtl ?? false,
      sessionTtlMultiplier: mult,
      minCheckIntervalMs: opts.minCheckIntervalMs ?? 1000,
    };
    this.port = opts.port ?? 0;
    // The node's Serf health check: not registered through the agent API, present in every health answer.
    this.checks_.set(SERF, {
      def: { CheckID: SERF, Name: "Serf Health Status", Notes: "", Type: "node", timeoutMs: 0 },
      key: "",
      serviceId: "",
      serviceName: "",
      status: "passing",
      output: "Agent alive and reachable",
      criticalSince: undefined,
      overridden: true,
      timer: undefined,
      token: 0,
      createIndex: 1,
      modifyIndex: 1,
    });
  }

  static async start(opts: ConsulEmulatorOptions = {}): Promise<ConsulEmulator> {
    const emu = new ConsulEmulator(opts);
    await emu.listen();
    emu.reaper = setInterval(() => emu.reapNow(), emu.opts.reaperIntervalMs);
    emu.reaper.unref();
    return emu;
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Closes the listener and every connection (pending blocking queries are cut) and stops all timers. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.reaper);
    for (const c of this.checks_.values()) this.stopRunner(c);
    for (const s of this.sessions_.values()) clearTimeout(s.timer);
    for (const w of this.waiters) clearTimeout(w.timer);
    this.waiters.clear();
    for (const abort of this.inflight) abort();
    this.inflight.clear();
    await this.closeServer();
  }

  /**
   * Consul becomes unreachable: the listening socket and every open connection are closed, so
   * clients get ECONNREFUSED (a request already in flight sees its connection cut). State and
   * timers go on (checks run, sessions expire). resume() listens again on the same port.
   */
  async pause(): Promise<void> {
    if (this.stopped || this.paused) return;
    this.paused = true;
    await this.closeServer();
  }

  /** Listens again on the same port with the same state. */
  async resume(): Promise<void> {
    if (this.stopped || !this.paused) return;
    await this.listen();
    this.paused = false;
  }

  /** The next `n` API requests answer `status` with a text/plain body. */
  failNext(n: number, status = 500): void {
    for (let i = 0; i < n; i++) this.failQueue.push(status);
  }

  // ---- test controls -------------------------------------------------------------------------

  /** The current (Raft-like) index; it moves only when something visible changes. */
  get index(): number {
    return this.raft;
  }

  /** Requests whose method and path match (`path` a string prefix ending in "*", or exact). */
  requestCount(method: string, path: string): number {
    const match = path.endsWith("*") ? (p: string) => p.startsWith(path.slice(0, -1)) : (p: string) => p === path;
    return this.requests.filter((r) => r.method === method && match(r.path)).length;
  }

  /** The registered services, sorted by ID, with their checks. */
  services(): EmulatedService[] {
    return [...this.services_.values()]
      .sort((a, b) => cmp(a.ID, b.ID))
      .map((s) => ({
        ID: s.ID,
        Service: s.Service,
        Tags: [...s.Tags],
        Address: s.Address,
        Port: s.Port,
        Meta: { ...s.Meta },
        Checks: s.checkIds
          .map((id) => this.checks_.get(id))
          .filter((c): c is Check => !!c)
          .map((c) => this.emulatedCheck(c)),
      }));
  }

  /** One check (service, node-level, or "serfHealth"), or undefined. */
  check(checkId: string): EmulatedCheck | undefined {
    const c = this.checks_.get(checkId);
    return c && this.emulatedCheck(c);
  }

  /**
   * Forces a check's status (and Output) and stops its runner (HTTP/TCP probes, TTL expiry) until
   * runChecks(checkId). "serfHealth" is the node's check: see setNodeHealth.
   */
  setCheckStatus(checkId: string, status: CheckStatus, output?: string): void {
    if (checkId === SERF) return this.setNodeHealth(status);
    const c = this.checks_.get(checkId);
    if (!c) throw new Error(`no check ${checkId}`);
    if (!STATUSES.includes(status)) throw new Error(`bad status ${status}`);
    this.stopRunner(c);
    c.overridden = true;
    this.updateCheck(c, status, output ?? `Set by the test: ${status}`);
  }

  /**
   * Resumes the runner of a check (all checks without an argument) after setCheckStatus: an
   * HTTP/TCP check is probed at once (the promise resolves after that probe), a TTL check's
   * clock starts again.
   */
  async runChecks(checkId?: string): Promise<void> {
    const list = checkId === undefined ? [...this.checks_.values()].filter((c) => c.def.CheckID !== SERF) : [this.checks_.get(checkId)];
    if (list.some((c) => !c)) throw new Error(`no check ${checkId}`);
    await Promise.all(
      (list as Check[]).map((c) => {
        c.overridden = false;
        return this.startRunner(c);
      }),
    );
  }

  /** The node's serfHealth check, in every health answer (passing at start). Critical invalidates the node's sessions. */
  setNodeHealth(status: CheckStatus): void {
    if (!STATUSES.includes(status)) throw new Error(`bad status ${status}`);
    const serf = this.checks_.get(SERF) as Check;
    this.updateCheck(
      serf,
      status,
      status === "passing" ? "Agent alive and reachable" : `Agent not live or unreachable (set by the test: ${status})`,
    );
  }

  /** Runs the DeregisterCriticalServiceAfter reaper now (it also runs every reaperIntervalMs). */
  reapNow(): string[] {
    const now = Date.now();
    const reaped = new Set<string>();
    for (const c of this.checks_.values()) {
      const after = c.def.deregisterAfterMs;
      if (!c.serviceId || !after || c.status !== "critical" || c.criticalSince === undefined) continue;
      if (now - c.criticalSince > after) reaped.add(c.serviceId);
    }
    for (const id of reaped) this.deregisterService(id);
    return [...reaped];
  }

  /** A KV entry (Value decoded as UTF-8), or undefined. */
  kvEntry(key: string): EmulatedKv | undefined {
    const e = this.kv.get(key);
    if (!e) return undefined;
    const out: EmulatedKv = {
      Key: e.Key,
      Value: e.value ? e.value.toString() : null,
      LockIndex: e.LockIndex,
      Flags: e.Flags,
      CreateIndex: e.CreateIndex,
      ModifyIndex: e.ModifyIndex,
    };
    if (e.Session) out.Session = e.Session;
    return out;
  }

  /** The live sessions. */
  sessions(): EmulatedSession[] {
    return [...this.sessions_.values()].map((s) => ({
      ID: s.ID,
      Name: s.Name,
      Behavior: s.Behavior,
      TTL: s.TTL,
      LockDelayMs: s.lockDelayMs,
      expiresAt: s.expiresAt,
    }));
  }

  /** Invalidates a session now, as if its TTL ran out (locks released or keys deleted, lock-delay applies). */
  expireSession(id: string): void {
    const s = this.sessions_.get(id);
    if (!s) throw new Error(`no session ${id}`);
    this.invalidateSession(s);
  }

  // ---- HTTP plumbing -------------------------------------------------------------------------

  private listen(): Promise<void> {
    const server = http.createServer({ requestTimeout: 0 }, (req, res) => this.onRequest(req, res));
    // Keep idle keep-alive connections longer than clients do, so a reused socket is not closed under them.
    server.keepAliveTimeout = 120_000;
    server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, this.host, () => {
        server.off("error", reject);
        this.port = (server.address() as AddressInfo).port;
        this.url = `http://${this.host}:${this.port}`;
        resolve();
      });
    });
  }

  private async closeServer(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
    // Let clients see their sockets close before they try again, so the next attempt is refused
    // rather than written to a dead keep-alive socket.
    await new Promise((r) => setTimeout(r, 10));
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? "/", "http://127.0.0.1");
    const rec: RequestRecord = { method: req.method ?? "", path: u.pathname, query: u.search.replace(/^\?/, "") };
    this.requests.push(rec);
    res.on("finish", () => (rec.status = res.statusCode));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("end", () => {
      const failure = this.failQueue.shift();
      if (failure !== undefined) return this.reply(res, { status: failure, text: `emulated failure (HTTP ${failure})` });
      try {
        if (size > MAX_BODY) throw new ApiError(413, "Request body too large");
        const out = this.route(rec.method, u.pathname, u.searchParams, Buffer.concat(chunks));
        if ("compute" in out) this.block(res, u.searchParams, out.compute);
        else this.reply(res, out);
      } catch (err) {
        if (err instanceof ApiError) this.reply(res, { status: err.status, text: err.message });
        else this.reply(res, { status: 500, text: `emulator error: ${(err as Error).message}` });
      }
    });
  }

  private reply(res: ServerResponse, a: Answer): void {
    if (res.writableEnded || res.destroyed) return;
    const headers: Record<string, string> = {
      "X-Consul-Index": String(Math.max(1, a.index ?? this.raft)),
      "X-Consul-KnownLeader": "true",
      "X-Consul-LastContact": "0",
      "Content-Type": a.text !== undefined ? "text/plain; charset=utf-8" : "application/json",
    };
    let body: string | Buffer = "";
    if (a.text !== undefined) body = a.text;
    else if (a.raw !== undefined) body = a.raw;
    else if (a.body !== undefined) body = JSON.stringify(a.body);
    headers["Content-Length"] = String(Buffer.byteLength(body));
    res.writeHead(a.status ?? 200, headers).end(body);
  }

  /** A blocking query: `index=N` holds the answer until its index exceeds N or `wait` runs out (no jitter). */
  private block(res: ServerResponse, q: URLSearchParams, compute: () => Answer): void {
    const rawIndex = q.get("index");
    let minIndex = 0;
    if (rawIndex !== null && rawIndex !== "") {
      if (!/^\d+$/.test(rawIndex)) throw new ApiError(400, "Invalid index");
      minIndex = Number(rawIndex);
    }
    let waitMs = DEFAULT_WAIT_MS;
    const rawWait = q.get("wait");
    if (rawWait !== null && rawWait !== "") {
      const d = parseGoDuration(rawWait);
      if (d === undefined || d < 0) throw new ApiError(400, "Invalid wait time");
      if (d > 0) waitMs = Math.min(d, MAX_WAIT_MS);
    }
    const first = compute();
    const s = first.status ?? 200;
    if (minIndex === 0 || (s !== 200 && s !== 404) || (first.index ?? this.raft) > minIndex) return this.reply(res, first);
    const w: Waiter = {
      minIndex,
      compute,
      res,
      timer: setTimeout(() => this.finishWaiter(w), waitMs),
    };
    this.waiters.add(w);
    res.on("close", () => {
      clearTimeout(w.timer);
      this.waiters.delete(w);
    });
  }

  private finishWaiter(w: Waiter, a?: Answer): void {
    clearTimeout(w.timer);
    this.waiters.delete(w);
    this.reply(w.res, a ?? w.compute());
  }

  /** Something visible changed: wake the blocking queries whose index moved (after the current operation). */
  private notify(): void {
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const w of [...this.waiters]) {
        const a = w.compute();
        if ((a.index ?? this.raft) > w.minIndex) this.finishWaiter(w, a);
      }
    });
  }

  private bump(): number {
    this.raft += 1;
    this.notify();
    return this.raft;
  }

  // ---- routing -------------------------------------------------------------------------------

  private route(method: string, path: string, q: URLSearchParams, body: Buffer): Answer | Blocking {
    const m = /^\/v1\/(.*)$/.exec(path);
    if (!m) throw new ApiError(404, "404 page not found");
    const p = m[1] as string;
    const rest = (prefix: string) => decodePath(p.slice(prefix.length));
    const only = (...methods: string[]) => {
      if (!methods.includes(method)) throw new ApiError(405, `method ${method} not allowed`);
    };
    const dc = () => {
      const d = q.get("dc");
      if (d && d !== DC) throw new ApiError(500, "No path to datacenter");
    };

    // agent
    if (p === "agent/service/register") {
      only("PUT");
      return this.register(parseJson(body), flag(q, "replace-existing-checks"));
    }
    if (p.startsWith("agent/service/deregister/")) {
      only("PUT");
      const id = rest("agent/service/deregister/");
      if (!this.deregisterService(id))
        throw new ApiError(404, `Unknown service ID "${id}". Ensure that the service ID is passed, not the service name.`);
      return {};
    }
    if (p.startsWith("agent/service/maintenance/")) {
      only("PUT");
      return this.maintenance(rest("agent/service/maintenance/"), q);
    }
    if (p === "agent/services") {
      only("GET");
      return { body: this.agentServices(q.get("filter")) };
    }
    if (p.startsWith("agent/service/")) {
      only("GET");
      const s = this.services_.get(rest("agent/service/"));
      if (!s) throw new ApiError(404, "unknown service ID");
      return { body: { ...this.serviceJson(s, false), Datacenter: DC } };
    }
    if (p === "agent/checks") {
      only("GET");
      return { body: this.agentChecks() };
    }
    if (p === "agent/check/register") {
      only("PUT");
      return this.registerCheck(parseJson(body));
    }
    if (p.startsWith("agent/check/deregister/")) {
      only("PUT");
      const id = rest("agent/check/deregister/");
      const c = this.checks_.get(id);
      if (!c || id === SERF) throw new ApiError(404, `Unknown check ID "${id}"`);
      this.removeCheck(c);
      return {};
    }
    const ttlUpdate = /^agent\/check\/(pass|warn|fail|update)\//.exec(p);
    if (ttlUpdate) {
      only("PUT");
      return this.ttlUpdate(ttlUpdate[1] as string, rest(ttlUpdate[0]), q, body);
    }
    if (p === "agent/self") {
      only("GET");
      return { body: this.self() };
    }
    if (p === "status/leader" || p === "status/peers") {
      only("GET");
      return { body: p === "status/leader" ? "127.0.0.1:8300" : ["127.0.0.1:8300"] };
    }

    // catalog, health (blocking)
    if (p === "catalog/services") {
      only("GET");
      dc();
      return { compute: () => this.catalogServices() };
    }
    if (p.startsWith("catalog/service/")) {
      only("GET");
      dc();
      const name = rest("catalog/service/");
      const filter = compileFilter(q.get("filter"));
      return { compute: () => this.catalogService(name, q.getAll("tag"), filter) };
    }
    if (p.startsWith("health/service/")) {
      only("GET");
      dc();
      const name = rest("health/service/");
      const passing = flag(q, "passing");
      const filter = compileFilter(q.get("filter"));
      return { compute: () => this.healthService(name, q.getAll("tag"), passing, filter) };
    }
    if (p.startsWith("health/checks/")) {
      only("GET");
      dc();
      const name = rest("health/checks/");
      return { compute: () => this.healthChecks(name) };
    }

    // sessions
    if (p.startsWith("session/")) dc();
    if (p === "session/create") {
      only("PUT");
      return this.createSession(body.length ? parseJson(body) : {});
    }
    if (p.startsWith("session/renew/")) {
      only("PUT");
      const id = rest("session/renew/");
      const s = this.sessions_.get(id);
      if (!s) throw new ApiError(404, `Session id '${id}' not found`);
      this.armSession(s);
      return { body: [this.sessionJson(s)], index: this.sessionsIdx };
    }
    if (p.startsWith("session/destroy/")) {
      only("PUT");
      const s = this.sessions_.get(rest("session/destroy/"));
      if (s) this.invalidateSession(s);
      return { body: true };
    }
    if (p.startsWith("session/info/")) {
      only("GET");
      const id = rest("session/info/");
      return {
        compute: () => {
          const s = this.sessions_.get(id);
          return { body: s ? [this.sessionJson(s)] : [], index: this.sessionsIdx };
        },
      };
    }
    if (p === "session/list") {
      only("GET");
      return { compute: () => ({ body: [...this.sessions_.values()].map((s) => this.sessionJson(s)), index: this.sessionsIdx }) };
    }

    // kv
    if (p === "kv" || p.startsWith("kv/")) {
      dc();
      const key = p === "kv" ? "" : rest("kv/");
      if (method === "GET") return this.kvGet(key, q);
      if (method === "PUT") return this.kvPut(key, q, body);
      if (method === "DELETE") return this.kvDelete(key, q);
      throw new ApiError(405, `method ${method} not allowed`);
    }
    throw new ApiError(404, "404 page not found");
  }

  // ---- agent: services -----------------------------------------------------------------------

  private register(raw: unknown, replaceExisting: boolean): Answer {
    const b = norm(raw, "Request decode failed: expected a JSON object");
    const name = optStr(b.name, "Name");
    if (!name) throw new ApiError(400, "Missing service name");
    const id = optStr(b.id, "ID") || name;
    const tags = strList(b.tags, "Tags");
    const address = optStr(b.address, "Address") ?? "";
    const port = b.port === undefined || b.port === null ? 0 : b.port;
    if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535)
      throw new ApiError(400, "Request decode failed: invalid Port");
    const meta = strMap(b.meta, "Meta");

    const rawChecks: unknown[] = [];
    if (b.check !== undefined && b.check !== null && !isEmptyObject(b.check)) rawChecks.push(b.check);
    if (b.checks !== undefined && b.checks !== null) {
      if (!Array.isArray(b.checks)) throw new ApiError(400, "Request decode failed: Checks must be an array");
      rawChecks.push(...b.checks);
    }
    // Consul: service:<id> for a lone check, service:<id>:<n> (1-based) when there are several.
    const defs = rawChecks.map((c, i) =>
      this.parseCheck(c, rawChecks.length > 1 ? `service:${id}:${i + 1}` : `service:${id}`, `Service '${name}' check`),
    );
    if (new Set(defs.map((d) => d.CheckID)).size !== defs.length) throw new ApiError(400, "Invalid check: duplicate CheckID");
    if (defs.some((d) => d.CheckID === SERF)) throw new ApiError(400, `Invalid check: CheckID ${SERF} is reserved`);

    const key = JSON.stringify([id, name, tags, address, port, Object.entries(meta).sort(([x], [y]) => cmp(x, y))]);
    const existing = this.services_.get(id);
    const defKeys = defs.map((d) => JSON.stringify(d));
    const identical =
      existing !== undefined &&
      existing.key === key &&
      defs.every((d, i) => {
        const c = this.checks_.get(d.CheckID);
        return c !== undefined && c.serviceId === id && c.key === defKeys[i];
      }) &&
      (!replaceExisting || existing.checkIds.every((cid) => defs.some((d) => d.CheckID === cid)));
    if (identical) return {};

    const idx = this.bump();
    const svc: Service = {
      ID: id,
      Service: name,
      Tags: tags,
      Address: address,
      Port: port,
      Meta: meta,
      key,
      checkIds: [],
      createIndex: existing?.createIndex ?? idx,
      modifyIndex: idx,
    };
    let keep = existing ? existing.checkIds.filter((cid) => !defs.some((d) => d.CheckID === cid)) : [];
    if (replaceExisting) {
      for (const cid of keep) {
        const c = this.checks_.get(cid);
        if (c) this.dropCheck(c);
      }
      keep = [];
    }
    for (const cid of keep) {
      const c = this.checks_.get(cid);
      if (c) c.serviceName = name;
    }
    svc.checkIds = [...keep];
    this.services_.set(id, svc);
    defs.forEach((d, i) => {
      const k = defKeys[i] as string;
      const prev = this.checks_.get(d.CheckID);
      if (prev && prev.serviceId !== id) {
        // A check ID taken over from another service (or a node check).
        const owner = this.services_.get(prev.serviceId);
        if (owner) owner.checkIds = owner.checkIds.filter((x) => x !== d.CheckID);
        if (prev.serviceName) this.svcIdx.set(prev.serviceName, idx);
      }
      svc.checkIds.push(d.CheckID);
      if (prev && prev.serviceId === id && prev.key === k) {
        prev.serviceName = name;
        return;
      }
      // New, or changed: a check keeps the status it had under the same ID, else starts as given (critical by default).
      if (prev) this.stopRunner(prev);
      const same = prev && prev.serviceId === id ? prev : undefined;
      const status = same ? same.status : (d.Status ?? "critical");
      const c: Check = {
        def: d,
        key: k,
        serviceId: id,
        serviceName: name,
        status,
        output: same ? same.output : "",
        criticalSince: same ? same.criticalSince : status === "critical" ? Date.now() : undefined,
        overridden: same ? same.overridden : false,
        timer: undefined,
        token: prev ? prev.token + 1 : 0,
        createIndex: same?.createIndex ?? idx,
        modifyIndex: idx,
      };
      this.checks_.set(d.CheckID, c);
      void this.startRunner(c);
    });
    this.svcIdx.set(name, idx);
    if (existing && existing.Service !== name) this.svcIdx.set(existing.Service, idx);
    this.servicesIdx = idx;
    return {};
  }

  /** Removes a service and its checks; false when unknown. */
  private deregisterService(id: string): boolean {
    const s = this.services_.get(id);
    if (!s) return false;
    const idx = this.bump();
    for (const cid of s.checkIds) {
      const c = this.checks_.get(cid);
      if (c) this.dropCheck(c);
    }
    this.services_.delete(id);
    this.svcIdx.set(s.Service, idx);
    this.servicesIdx = idx;
    return true;
  }

  private maintenance(id: string, q: URLSearchParams): Answer {
    const s = this.services_.get(id);
    if (!s) throw new ApiError(404, `Unknown service ID "${id}"`);
    const enable = q.get("enable");
    if (enable === null || enable === "") throw new ApiError(400, "Missing value for enable");
    if (enable !== "true" && enable !== "false") throw new ApiError(400, "Invalid value for enable");
    const cid = `_service_maintenance:${id}`;
    const existing = this.checks_.get(cid);
    if (enable === "false") {
      if (existing) this.removeCheck(existing);
      return {};
    }
    if (existing) return {};
    const idx = this.bump();
    const reason =
      q.get("reason") || "Maintenance mode is enabled for this service, but no reason was provided. This is a default message.";
    this.checks_.set(cid, {
      def: { CheckID: cid, Name: "Service Maintenance Mode", Notes: reason, Type: "maintenance", timeoutMs: 0 },
      key: "",
      serviceId: id,
      serviceName: s.Service,
      status: "critical",
      output: "",
      criticalSince: Date.now(),
      overridden: true,
      timer: undefined,
      token: 0,
      createIndex: idx,
      modifyIndex: idx,
    });
    s.checkIds.push(cid);
    this.svcIdx.set(s.Service, idx);
    this.invalidateSessionsFor(cid);
    return {};
  }

  // ---- agent: checks -------------------------------------------------------------------------

  private parseCheck(raw: unknown, defaultId: string, defaultName: string): CheckDef {
    const c = norm(raw, "Request decode failed: a check must be a JSON object");
    const id = optStr(c.checkid, "CheckID") || defaultId;
    const name = optStr(c.name, "Name") || defaultName;
    const httpUrl = optStr(c.http, "HTTP");
    const tcp = optStr(c.tcp, "TCP");
    const intervalMs = optDuration(c.interval, "Interval");
    const timeoutMs = optDuration(c.timeout, "Timeout");
    const ttlMs = optDuration(c.ttl, "TTL");
    const deregMs = optDuration(c.deregistercriticalserviceafter, "DeregisterCriticalServiceAfter");
    const status = optStr(c.status, "Status");
    if (status && !STATUSES.includes(status)) throw new ApiError(400, "Status for checks must 'passing', 'warning', 'critical'");
    for (const unsupported of ["grpc", "h2ping", "udp", "args", "script", "aliasnode", "aliasservice", "dockercontainerid", "oshservice"]) {
      if (c[unsupported] !== undefined && c[unsupported] !== null && c[unsupported] !== "")
        throw new ApiError(400, `Invalid check: the emulator runs only HTTP, TCP and TTL checks (got ${unsupported})`);
    }
    if ((httpUrl || tcp) && !(intervalMs && intervalMs > 0))
      throw new ApiError(400, "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP or UDP checks");
    if (!httpUrl && !tcp && !(ttlMs && ttlMs > 0))
      throw new ApiError(400, "Invalid check: one of HTTP or TCP (with Interval) or TTL is required");
    if (httpUrl && tcp) throw new ApiError(400, "Invalid check: HTTP and TCP cannot both be set");
    if ((httpUrl || tcp) && ttlMs && ttlMs > 0) throw new ApiError(400, "Invalid check: Interval and TTL cannot both be set");
    const def: CheckDef = {
      CheckID: id,
      Name: name,
      Notes: optStr(c.notes, "Notes") ?? "",
      Type: httpUrl ? "http" : tcp ? "tcp" : "ttl",
      timeoutMs: 10_000,
    };
    if (httpUrl) {
      try {
        const u = new URL(httpUrl);
        if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("scheme");
      } catch {
        throw new ApiError(400, `Invalid check: bad HTTP URL ${JSON.stringify(httpUrl)}`);
      }
      def.HTTP = httpUrl;
      def.Method = (optStr(c.method, "Method") || "GET").toUpperCase();
      if (c.header !== undefined && c.header !== null) {
        if (typeof c.header !== "object" || Array.isArray(c.header))
          throw new ApiError(400, "Request decode failed: Header must be a map of string lists");
        def.Header = Object.entries(c.header as Record<string, unknown>)
          .map(([k, v]): [string, string[]] => [k, strList(v, "Header")])
          .sort(([x], [y]) => cmp(x, y));
      }
      const body = optStr(c.body, "Body");
      if (body) def.Body = body;
      if (c.tlsskipverify === true) def.TLSSkipVerify = true;
    }
    if (tcp) {
      if (!/^.+:\d+$/.test(tcp)) throw new ApiError(400, `Invalid check: TCP must be host:port, got ${JSON.stringify(tcp)}`);
      def.TCP = tcp;
    }
    if (def.Type === "ttl") {
      def.TTL = durationText(c.ttl);
      def.ttlMs = ttlMs;
    } else {
      def.Interval = durationText(c.interval);
      // Consul raises intervals under its minimum (1s) to it.
      def.intervalMs = Math.max(intervalMs as number, this.opts.minCheckIntervalMs);
      if (timeoutMs !== undefined && timeoutMs > 0) {
        def.Timeout = durationText(c.timeout);
        def.timeoutMs = timeoutMs;
      }
    }
    if (deregMs !== undefined && deregMs > 0) {
      def.DeregisterCriticalServiceAfter = durationText(c.deregistercriticalserviceafter);
      // Consul raises it to 1m.
      def.deregisterAfterMs = this.opts.allowShortDeregister ? deregMs : Math.max(deregMs, 60_000);
    }
    if (status) def.Status = status as CheckStatus;
    return def;
  }

  /** PUT /v1/agent/check/register: a check on an existing service (ServiceID) or on the node. */
  private registerCheck(raw: unknown): Answer {
    const b = norm(raw, "Request decode failed: expected a JSON object");
    const name = optStr(b.name, "Name");
    if (!name) throw new ApiError(400, "Missing check name");
    const def = this.parseCheck(raw, optStr(b.id, "ID") || name, name);
    if (optStr(b.id, "ID") && !optStr(b.checkid, "CheckID")) def.CheckID = optStr(b.id, "ID") as string;
    if (def.CheckID === SERF) throw new ApiError(400, `Invalid check: CheckID ${SERF} is reserved`);
    const serviceId = optStr(b.serviceid, "ServiceID") ?? "";
    const svc = serviceId ? this.services_.get(serviceId) : undefined;
    if (serviceId && !svc) throw new ApiError(400, `ServiceID "${serviceId}" does not exist`);
    const key = JSON.stringify(def);
    const prev = this.checks_.get(def.CheckID);
    if (prev && prev.serviceId === serviceId && prev.key === key) return {};
    const idx = this.bump();
    if (prev) {
      this.stopRunner(prev);
      const owner = this.services_.get(prev.serviceId);
      if (owner) owner.checkIds = owner.checkIds.filter((x) => x !== def.CheckID);
      this.touchOwner(prev, idx);
    }
    const status = prev ? prev.status : (def.Status ?? "critical");
    const c: Check = {
      def,
      key,
      serviceId,
      serviceName: svc?.Service ?? "",
      status,
      output: prev?.output ?? "",
      criticalSince: prev ? prev.criticalSince : status === "critical" ? Date.now() : undefined,
      overridden: prev?.overridden ?? false,
      timer: undefined,
      token: (prev?.token ?? 0) + 1,
      createIndex: prev?.createIndex ?? idx,
      modifyIndex: idx,
    };
    this.checks_.set(def.CheckID, c);
    if (svc) svc.checkIds.push(def.CheckID);
    this.touchOwner(c, idx);
    void this.startRunner(c);
    return {};
  }

  /** Deregisters one check (with an index bump). */
  private removeCheck(c: Check): void {
    const idx = this.bump();
    const owner = this.services_.get(c.serviceId);
    if (owner) owner.checkIds = owner.checkIds.filter((x) => x !== c.def.CheckID);
    this.dropCheck(c);
    this.touchOwner(c, idx);
  }

  /** Forgets a check (no index bump: the caller bumps). Sessions that named it are invalidated. */
  private dropCheck(c: Check): void {
    this.stopRunner(c);
    this.checks_.delete(c.def.CheckID);
    this.invalidateSessionsFor(c.def.CheckID);
  }

  private ttlUpdate(op: string, id: string, q: URLSearchParams, body: Buffer): Answer {
    const c = this.checks_.get(id);
    if (!c || id === SERF) throw new ApiError(404, `Unknown check ID "${id}"`);
    if (c.def.Type !== "ttl") throw new ApiError(500, `CheckID "${id}" does not have associated TTL`);
    let status: CheckStatus;
    let output = q.get("note") ?? "";
    if (op === "update") {
      const b = norm(parseJson(body), "Request decode failed: expected a JSON object");
      const s = optStr(b.status, "Status") ?? "";
      if (!STATUSES.includes(s)) throw new ApiError(400, "Invalid check status");
      status = s as CheckStatus;
      output = optStr(b.output, "Output") ?? "";
    } else status = op === "pass" ? "passing" : op === "warn" ? "warning" : "critical";
    this.updateCheck(c, status, output);
    if (!c.overridden) void this.startRunner(c);
    return {};
  }

  /** Sets a check's status; a status change bumps the index (an Output-only change does not, as Consul defers those). */
  private updateCheck(c: Check, status: CheckStatus, output: string): void {
    c.output = output;
    if (c.status === status) return;
    c.status = status;
    c.criticalSince = status === "critical" ? Date.now() : undefined;
    const idx = this.bump();
    c.modifyIndex = idx;
    this.touchOwner(c, idx);
    if (status === "critical") this.invalidateSessionsFor(c.def.CheckID);
  }

  /** A check changed: its service's index moves (a node check moves every service's). */
  private touchOwner(c: Check, idx: number): void {
    if (c.serviceId) {
      this.svcIdx.set(c.serviceName, idx);
      return;
    }
    for (const s of this.services_.values()) this.svcIdx.set(s.Service, idx);
    this.svcIdx.set("consul", idx);
  }

  private stopRunner(c: Check): void {
    c.token += 1;
    clearTimeout(c.timer);
    c.timer = undefined;
  }

  /** (Re)starts a check's runner: HTTP/TCP probe at once then every Interval after each probe; TTL clock. */
  private startRunner(c: Check): Promise<void> {
    this.stopRunner(c);
    if (c.overridden || this.stopped) return Promise.resolve();
    if (c.def.Type === "ttl") {
      const token = c.token;
      c.timer = setTimeout(() => {
        if (c.token === token && this.checks_.get(c.def.CheckID) === c) this.updateCheck(c, "critical", "TTL expired");
      }, c.def.ttlMs);
      c.timer.unref();
      return Promise.resolve();
    }
    if (c.def.Type === "http" || c.def.Type === "tcp") return this.probe(c, c.token);
    return Promise.resolve();
  }

  private async probe(c: Check, token: number): Promise<void> {
    const d = c.def;
    const result = d.Type === "http" ? await this.httpProbe(d) : await this.tcpProbe(d);
    if (c.token !== token || this.stopped || this.checks_.get(d.CheckID) !== c) return;
    this.updateCheck(c, result.status, result.output);
    if (c.token !== token) return;
    c.timer = setTimeout(() => void this.probe(c, token), d.intervalMs);
    c.timer.unref();
  }

  private httpProbe(d: CheckDef): Promise<{ status: CheckStatus; output: string }> {
    const url = d.HTTP as string;
    const method = d.Method ?? "GET";
    return new Promise((resolve) => {
      let done = false;
      const finish = (status: CheckStatus, output: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.inflight.delete(abort);
        resolve({ status, output });
      };
      const headers: Record<string, string | string[]> = { "User-Agent": "Consul Health Check", Accept: "text/plain, text/*, */*" };
      for (const [k, v] of d.Header ?? []) headers[k] = v;
      const u = new URL(url);
      const mod = u.protocol === "https:" ? https : http;
      let req: http.ClientRequest;
      try {
        req = mod.request(u, { method, headers, agent: false, rejectUnauthorized: !d.TLSSkipVerify });
      } catch (err) {
        return resolve({ status: "critical", output: `${method} "${url}": ${(err as Error).message}` });
      }
      const abort = () => req.destroy(new Error("emulator stopped"));
      this.inflight.add(abort);
      const timer = setTimeout(
        () => req.destroy(new Error(`context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)),
        d.timeoutMs,
      );
      req.on("error", (err) => finish("critical", `${method} "${url}": ${err.message}`));
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (b: Buffer) => {
          if (size < 4096) chunks.push(b);
          size += b.length;
        });
        res.on("error", (err) => finish("critical", `${method} "${url}": ${err.message}`));
        res.on("end", () => {
          const code = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString().slice(0, 4096);
          const output = `HTTP ${method} ${url}: ${code} ${http.STATUS_CODES[code] ?? ""} Output: ${text}`;
          finish(code >= 200 && code < 300 ? "passing" : code === 429 ? "warning" : "critical", output);
        });
      });
      req.end(d.Body);
    });
  }

  private tcpProbe(d: CheckDef): Promise<{ status: CheckStatus; output: string }> {
    const target = d.TCP as string;
    const i = target.lastIndexOf(":");
    const host = target.slice(0, i).replace(/^\[|\]$/g, "");
    const port = Number(target.slice(i + 1));
    return new Promise((resolve) => {
      let done = false;
      const sock = net.connect({ host, port });
      const finish = (status: CheckStatus, output: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.inflight.delete(abort);
        sock.destroy();
        resolve({ status, output });
      };
      const abort = () => finish("critical", "emulator stopped");
      this.inflight.add(abort);
      const timer = setTimeout(() => finish("critical", `dial tcp ${target}: i/o timeout`), d.timeoutMs);
      sock.once("connect", () => finish("passing", `TCP connect ${target}: Success`));
      sock.once("error", (err) => finish("critical", `dial tcp ${target}: ${err.message}`));
    });
  }

  // ---- JSON views ----------------------------------------------------------------------------

  private nodeJson(): Record<string, unknown> {
    return {
      ID: this.nodeId,
      Node: NODE,
      Address: "127.0.0.1",
      Datacenter: DC,
      TaggedAddresses: { lan: "127.0.0.1", wan: "127.0.0.1" },
      Meta: {},
      CreateIndex: 1,
      ModifyIndex: 1,
    };
  }

  private serviceJson(s: Service, indexes = true): Record<string, unknown> {
    const out: Record<string, unknown> = {
      ID: s.ID,
      Service: s.Service,
      Tags: [...s.Tags],
      Address: s.Address,
      Meta: { ...s.Meta },
      Port: s.Port,
      Weights: { Passing: 1, Warning: 1 },
      EnableTagOverride: false,
    };
    if (indexes) Object.assign(out, { CreateIndex: s.createIndex, ModifyIndex: s.modifyIndex });
    return out;
  }

  private checkJson(c: Check): Record<string, unknown> {
    const svc = this.services_.get(c.serviceId);
    const out: Record<string, unknown> = {
      Node: NODE,
      CheckID: c.def.CheckID,
      Name: c.def.Name,
      Status: c.status,
      Notes: c.def.Notes,
      Output: c.output,
      ServiceID: c.serviceId,
      ServiceName: c.serviceName,
      ServiceTags: svc ? [...svc.Tags] : [],
      Type: c.def.Type === "node" || c.def.Type === "maintenance" ? "" : c.def.Type,
    };
    if (c.def.Interval) out.Interval = c.def.Interval;
    if (c.def.Timeout) out.Timeout = c.def.Timeout;
    out.CreateIndex = c.createIndex;
    out.ModifyIndex = c.modifyIndex;
    return out;
  }

  private emulatedCheck(c: Check): EmulatedCheck {
    return {
      CheckID: c.def.CheckID,
      Name: c.def.Name,
      Status: c.status,
      Output: c.output,
      ServiceID: c.serviceId,
      ServiceName: c.serviceName,
      Type: c.def.Type,
      overridden: c.overridden && c.def.Type !== "maintenance" && c.def.Type !== "node",
    };
  }

  private nodeChecks(): Check[] {
    return [...this.checks_.values()]
      .filter((c) => !c.serviceId)
      .sort((a, b) => (a.def.CheckID === SERF ? -1 : b.def.CheckID === SERF ? 1 : cmp(a.def.CheckID, b.def.CheckID)));
  }

  private agentServices(filter: string | null): Record<string, unknown> {
    const f = compileFilter(filter);
    const out: Record<string, unknown> = {};
    for (const s of [...this.services_.values()].sort((a, b) => cmp(a.ID, b.ID))) {
      const j = { ...this.serviceJson(s, false), Datacenter: DC };
      if (f(j)) out[s.ID] = j;
    }
    return out;
  }

  private agentChecks(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const c of [...this.checks_.values()].sort((a, b) => cmp(a.def.CheckID, b.def.CheckID))) {
      if (c.def.CheckID === SERF) continue; // Serf's check lives in the catalog, not in the agent's checks.
      const j = this.checkJson(c);
      delete j.CreateIndex;
      delete j.ModifyIndex;
      out[c.def.CheckID] = j;
    }
    return out;
  }

  private self(): Record<string, unknown> {
    return {
      Config: {
        Datacenter: DC,
        PrimaryDatacenter: DC,
        NodeName: NODE,
        NodeID: this.nodeId,
        Revision: "emulator",
        Server: true,
        Version: "1.20.0-emulator",
        BuildDate: "2024-01-01T00:00:00Z",
      },
      DebugConfig: {},
      Coord: { Vec: [0, 0, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0, Height: 1e-5 },
      Member: {
        Name: NODE,
        Addr: "127.0.0.1",
        Port: 8301,
        Tags: { dc: DC, role: "consul", id: this.nodeId, port: "8300", build: "1.20.0-emulator" },
        Status: 1,
        ProtocolMin: 1,
        ProtocolMax: 5,
        ProtocolCur: 2,
        DelegateMin: 2,
        DelegateMax: 5,
        DelegateCur: 4,
      },
      Meta: {},
      xDS: {},
    };
  }

  /** The registered instances of `name`, sorted by ID, plus Consul's own "consul" service. */
  private instances(name: string): Service[] {
    const list = [...this.services_.values()].filter((s) => s.Service === name).sort((a, b) => cmp(a.ID, b.ID));
    if (name === "consul" && !list.length)
      return [
        {
          ID: "consul",
          Service: "consul",
          Tags: [],
          Address: "",
          Port: 8300,
          Meta: {},
          key: "",
          checkIds: [],
          createIndex: 1,
          modifyIndex: 1,
        },
      ];
    return list;
  }

  private serviceIndex(name: string): number {
    return this.svcIdx.get(name) ?? this.servicesIdx;
  }

  private catalogServices(): Answer {
    const out: Record<string, string[]> = { consul: [] };
    for (const s of [...this.services_.values()].sort((a, b) => cmp(a.ID, b.ID))) {
      const tags = (out[s.Service] ??= []);
      for (const t of s.Tags) if (!tags.includes(t)) tags.push(t);
    }
    return { body: out, index: this.servicesIdx };
  }

  private catalogService(name: string, tags: string[], filter: (v: unknown) => boolean): Answer {
    const node = this.nodeJson();
    const body = this.instances(name)
      .filter((s) => tags.every((t) => s.Tags.includes(t)))
      .map((s) => ({
        ID: node.ID,
        Node: NODE,
        Address: node.Address,
        Datacenter: DC,
        TaggedAddresses: node.TaggedAddresses,
        NodeMeta: {},
        ServiceKind: "",
        ServiceID: s.ID,
        ServiceName: s.Service,
        ServiceTags: [...s.Tags],
        ServiceAddress: s.Address,
        ServiceWeights: { Passing: 1, Warning: 1 },
        ServiceMeta: { ...s.Meta },
        ServicePort: s.Port,
        ServiceEnableTagOverride: false,
        CreateIndex: s.createIndex,
        ModifyIndex: s.modifyIndex,
      }))
      .filter(filter);
    return { body, index: this.serviceIndex(name) };
  }

  private healthService(name: string, tags: string[], passing: boolean, filter: (v: unknown) => boolean): Answer {
    const nodeChecks = this.nodeChecks();
    const body = this.instances(name)
      .filter((s) => tags.every((t) => s.Tags.includes(t)))
      .map((s) => ({
        Node: this.nodeJson(),
        Service: this.serviceJson(s),
        Checks: [...nodeChecks, ...s.checkIds.map((id) => this.checks_.get(id)).filter((c): c is Check => !!c)].map((c) =>
          this.checkJson(c),
        ),
      }))
      .filter((e) => !passing || e.Checks.every((c) => c.Status === "passing"))
      .filter(filter);
    return { body, index: this.serviceIndex(name) };
  }

  private healthChecks(name: string): Answer {
    const body = this.instances(name).flatMap((s) =>
      s.checkIds
        .map((id) => this.checks_.get(id))
        .filter((c): c is Check => !!c)
        .map((c) => this.checkJson(c)),
    );
    return { body, index: this.serviceIndex(name) };
  }

  // ---- sessions ------------------------------------------------------------------------------

  private createSession(raw: unknown): Answer {
    const b = norm(raw, "Request decode failed: expected a JSON object");
    const name = optStr(b.name, "Name") ?? "";
    const node = optStr(b.node, "Node") || NODE;
    if (node !== NODE) throw new ApiError(500, `Missing node registration`);
    const behavior = optStr(b.behavior, "Behavior") || "release";
    if (behavior !== "release" && behavior !== "delete") throw new ApiError(400, `Invalid Behavior setting '${behavior}'`);
    // LockDelay: a duration string, or a number (below 1000: seconds; else nanoseconds), as Consul.
    let lockDelayMs = 15_000;
    if (b.lockdelay !== undefined && b.lockdelay !== null) {
      if (typeof b.lockdelay === "number") lockDelayMs = b.lockdelay < 1000 ? b.lockdelay * 1000 : b.lockdelay / 1e6;
      else {
        const d = typeof b.lockdelay === "string" ? parseGoDuration(b.lockdelay) : undefined;
        if (d === undefined) throw new ApiError(400, "Request decode failed: invalid LockDelay");
        lockDelayMs = d;
      }
    }
    if (lockDelayMs > 60_000) throw new ApiError(400, "Lock delay must be less than 60s");
    let ttl = "";
    let ttlMs = 0;
    if (b.ttl !== undefined && b.ttl !== null && b.ttl !== "") {
      ttl = optStr(b.ttl, "TTL") as string;
      const d = parseGoDuration(ttl);
      if (d === undefined) throw new ApiError(400, `Request decode failed: invalid TTL ${JSON.stringify(ttl)}`);
      if (d !== 0 && (d > 86_400_000 || (d < 10_000 && !this.opts.allowShortSessionTtl)))
        throw new ApiError(400, `Invalid Session TTL '${ttl}', must be between [10s=24h0m0s]`);
      ttlMs = d;
    }
    const nodeChecks =
      b.nodechecks !== undefined && b.nodechecks !== null
        ? strList(b.nodechecks, "NodeChecks")
        : b.checks !== undefined && b.checks !== null
          ? strList(b.checks, "Checks")
          : [SERF];
    let serviceChecks: { ID: string; Namespace: string }[] | null = null;
    if (Array.isArray(b.servicechecks))
      serviceChecks = b.servicechecks.map((x) => ({
        ID: optStr(norm(x, "Request decode failed: bad ServiceChecks").id, "ID") ?? "",
        Namespace: "",
      }));
    for (const id of [...nodeChecks, ...(serviceChecks ?? []).map((x) => x.ID)]) {
      const c = this.checks_.get(id);
      if (!c) throw new ApiError(500, `Missing check '${id}' registration`);
      if (c.status === "critical") throw new ApiError(500, `Check '${id}' is in critical state`);
    }
    const idx = this.bump();
    const s: Session = {
      ID: randomUUID(),
      Name: name,
      Node: node,
      lockDelayMs,
      Behavior: behavior,
      TTL: ttl,
      ttlMs,
      NodeChecks: nodeChecks,
      ServiceChecks: serviceChecks,
      CreateIndex: idx,
      ModifyIndex: idx,
      timer: undefined,
      expiresAt: undefined,
    };
    this.sessions_.set(s.ID, s);
    this.sessionsIdx = idx;
    this.armSession(s);
    return { body: { ID: s.ID }, index: idx };
  }

  /** (Re)starts a session's TTL clock: invalidated TTL × sessionTtlMultiplier from now (Consul: 2×). */
  private armSession(s: Session): void {
    clearTimeout(s.timer);
    if (!s.ttlMs) return;
    const after = s.ttlMs * this.opts.sessionTtlMultiplier;
    s.expiresAt = Date.now() + after;
    s.timer = setTimeout(() => this.sessions_.get(s.ID) === s && this.invalidateSession(s), after);
    s.timer.unref();
  }

  private sessionJson(s: Session): Record<string, unknown> {
    return {
      ID: s.ID,
      Name: s.Name,
      Node: s.Node,
      LockDelay: Math.round(s.lockDelayMs * 1e6),
      Behavior: s.Behavior,
      TTL: s.TTL,
      NodeChecks: [...s.NodeChecks],
      ServiceChecks: s.ServiceChecks,
      CreateIndex: s.CreateIndex,
      ModifyIndex: s.ModifyIndex,
    };
  }

  /** Destroy, expiry or a failed check: its locks are released (or its keys deleted) and lock-delay starts. */
  private invalidateSession(s: Session): void {
    if (this.sessions_.get(s.ID) !== s) return;
    clearTimeout(s.timer);
    this.sessions_.delete(s.ID);
    const idx = this.bump();
    this.sessionsIdx = idx;
    const until = Date.now() + s.lockDelayMs;
    for (const e of [...this.kv.values()]) {
      if (e.Session !== s.ID) continue;
      if (s.lockDelayMs > 0) this.lockDelays.set(e.Key, until);
      if (s.Behavior === "delete") {
        this.kv.delete(e.Key);
        this.tombstones.set(e.Key, idx);
      } else {
        e.Session = undefined;
        e.ModifyIndex = idx;
      }
      this.kvIdx = idx;
    }
  }

  private invalidateSessionsFor(checkId: string): void {
    for (const s of [...this.sessions_.values()]) {
      if (s.NodeChecks.includes(checkId) || (s.ServiceChecks ?? []).some((x) => x.ID === checkId)) this.invalidateSession(s);
    }
  }

  // ---- KV ------------------------------------------------------------------------------------

  private kvJson(e: KvEntry): Record<string, unknown> {
    const out: Record<string, unknown> = {
      LockIndex: e.LockIndex,
      Key: e.Key,
      Flags: e.Flags,
      Value: e.value && e.value.length ? e.value.toString("base64") : null,
    };
    if (e.Session) out.Session = e.Session;
    out.CreateIndex = e.CreateIndex;
    out.ModifyIndex = e.ModifyIndex;
    return out;
  }

  private kvGet(key: string, q: URLSearchParams): Blocking {
    if (q.has("keys")) {
      const sep = q.get("separator") ?? "";
      return {
        compute: () => {
          const keys = new Set<string>();
          for (const k of [...this.kv.keys()].sort()) {
            if (!k.startsWith(key)) continue;
            const j = sep ? k.indexOf(sep, key.length) : -1;
            keys.add(j >= 0 ? k.slice(0, j + sep.length) : k);
          }
          return keys.size ? { body: [...keys], index: this.prefixIndex(key) } : { status: 404, index: this.prefixIndex(key) };
        },
      };
    }
    if (flag(q, "recurse")) {
      return {
        compute: () => {
          const list = [...this.kv.values()].filter((e) => e.Key.startsWith(key)).sort((a, b) => cmp(a.Key, b.Key));
          return list.length
            ? { body: list.map((e) => this.kvJson(e)), index: this.prefixIndex(key) }
            : { status: 404, index: this.prefixIndex(key) };
        },
      };
    }
    const raw = flag(q, "raw");
    return {
      compute: () => {
        const e = this.kv.get(key);
        if (!e) return { status: 404, index: this.kvIdx };
        if (raw) return { raw: e.value ?? Buffer.alloc(0), index: e.ModifyIndex };
        return { body: [this.kvJson(e)], index: e.ModifyIndex };
      },
    };
  }

  /** The highest ModifyIndex (or deletion) under a prefix; the KV table's index when none. */
  private prefixIndex(prefix: string): number {
    let idx = 0;
    for (const e of this.kv.values()) if (e.Key.startsWith(prefix)) idx = Math.max(idx, e.ModifyIndex);
    for (const [k, i] of this.tombstones) if (k.startsWith(prefix)) idx = Math.max(idx, i);
    return idx || this.kvIdx;
  }

  private kvPut(key: string, q: URLSearchParams, body: Buffer): Answer {
    if (!key) throw new ApiError(400, "Missing key name");
    const acquire = q.get("acquire");
    const release = q.get("release");
    if (acquire !== null && release !== null) throw new ApiError(400, "Conflicting flags: acquire=" + acquire + "&release=" + release);
    let flags = 0;
    const rawFlags = q.get("flags");
    if (rawFlags !== null && rawFlags !== "") {
      if (!/^\d+$/.test(rawFlags)) throw new ApiError(400, "Invalid flags");
      flags = Number(rawFlags);
    }
    const value = body.length ? Buffer.from(body) : null;
    const existing = this.kv.get(key);
    const rawCas = q.get("cas");
    if (rawCas !== null && rawCas !== "") {
      if (!/^\d+$/.test(rawCas)) throw new ApiError(400, "Invalid cas");
      const cas = Number(rawCas);
      if (cas === 0 ? existing !== undefined : existing?.ModifyIndex !== cas) return { body: false };
    }
    const write = (session: string | undefined, lockIndex: number) => {
      const idx = this.bump();
      this.kv.set(key, {
        Key: key,
        value,
        Flags: flags,
        Session: session,
        LockIndex: lockIndex,
        CreateIndex: existing?.CreateIndex ?? idx,
        ModifyIndex: idx,
      });
      this.tombstones.delete(key);
      this.kvIdx = idx;
    };
    if (acquire !== null) {
      const s = this.sessions_.get(acquire);
      if (!s) throw new ApiError(500, `invalid session "${acquire}"`);
      if (existing?.Session && existing.Session !== acquire) return { body: false };
      if (existing?.Session !== acquire && (this.lockDelays.get(key) ?? 0) > Date.now()) return { body: false };
      // Re-acquiring a lock the session holds updates the value, not the LockIndex.
      write(acquire, existing?.Session === acquire ? existing.LockIndex : (existing?.LockIndex ?? 0) + 1);
      return { body: true };
    }
    if (release !== null) {
      if (!this.sessions_.has(release)) throw new ApiError(500, `invalid session "${release}"`);
      if (!existing || existing.Session !== release) return { body: false };
      write(undefined, existing.LockIndex);
      return { body: true };
    }
    write(existing?.Session, existing?.LockIndex ?? 0);
    return { body: true };
  }

  private kvDelete(key: string, q: URLSearchParams): Answer {
    const recurse = flag(q, "recurse");
    if (!key && !recurse) throw new ApiError(400, "Missing key name");
    const rawCas = q.get("cas");
    if (rawCas !== null && rawCas !== "") {
      if (recurse) throw new ApiError(400, "Conflicting flags: cas=" + rawCas + "&recurse");
      const e = this.kv.get(key);
      if (!/^\d+$/.test(rawCas)) throw new ApiError(400, "Invalid cas");
      if (!e || e.ModifyIndex !== Number(rawCas)) return { body: false };
    }
    const doomed = recurse ? [...this.kv.keys()].filter((k) => k.startsWith(key)) : this.kv.has(key) ? [key] : [];
    if (!doomed.length) return { body: true };
    const idx = this.bump();
    for (const k of doomed) {
      this.kv.delete(k);
      this.tombstones.set(k, idx);
    }
    this.kvIdx = idx;
    return { body: true };
  }
}

// ---- helpers ---------------------------------------------------------------------------------

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function decodePath(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ApiError(400, "Invalid URL path encoding");
  }
}

/** A boolean query flag: present and empty means true, as Consul. */
function flag(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  if (v === "" || /^(1|t|true)$/i.test(v)) return true;
  if (/^(0|f|false)$/i.test(v)) return false;
  throw new ApiError(400, `Invalid value for ?${name}`);
}

function parseJson(body: Buffer): unknown {
  if (!body.length) throw new ApiError(400, "Request decode failed: EOF");
  try {
    return JSON.parse(body.toString());
  } catch (err) {
    throw new ApiError(400, `Request decode failed: ${(err as Error).message}`);
  }
}

/** Keys lower-cased, underscores dropped: Consul decodes PascalCase, snake_case, any case. */
function norm(v: unknown, message: string): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new ApiError(400, message);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k.replace(/_/g, "").toLowerCase()] = x;
  return out;
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

function optStr(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new ApiError(400, `Request decode failed: ${field} must be a string`);
  return v;
}

function strList(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string"))
    throw new ApiError(400, `Request decode failed: ${field} must be a list of strings`);
  return [...(v as string[])];
}

function strMap(v: unknown, field: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v) || Object.values(v).some((x) => typeof x !== "string"))
    throw new ApiError(400, `Request decode failed: ${field} must be a map of strings`);
  return { ...(v as Record<string, string>) };
}

/** A duration field: a Go duration string, or a number of nanoseconds. Milliseconds out. */
function optDuration(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v === "number") return v / 1e6;
  const d = typeof v === "string" ? parseGoDuration(v) : undefined;
  if (d === undefined) throw new ApiError(400, `Request decode failed: ${field}: time: invalid duration ${JSON.stringify(v)}`);
  return d;
}

/** A duration field as Consul shows it: Go's Duration.String() ("10s", "200ms", "1m30s"). */
function durationText(v: unknown): string {
  const ms = typeof v === "number" ? v / 1e6 : parseGoDuration(String(v));
  return ms === undefined ? String(v) : formatGoDuration(ms);
}

export function formatGoDuration(ms: number): string {
  const ns = Math.round(ms * 1e6);
  const num = (x: number) => String(Number(x.toFixed(9)));
  if (ns === 0) return "0s";
  if (ns < 0) return "-" + formatGoDuration(-ms);
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${num(ns / 1e3)}µs`;
  if (ns < 1e9) return `${num(ns / 1e6)}ms`;
  let sec = ns / 1e9;
  const h = Math.floor(sec / 3600);
  sec -= h * 3600;
  const m = Math.floor(sec / 60);
  sec -= m * 60;
  return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${num(sec)}s`;
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration ("10s", "5m", "120000ms", "1m30s", "1.5h", "0"), in milliseconds; undefined if invalid. */
export function parseGoDuration(s: string): number | undefined {
  let str = s.trim();
  let sign = 1;
  if (str.startsWith("-") || str.startsWith("+")) {
    if (str[0] === "-") sign = -1;
    str = str.slice(1);
  }
  if (str === "0") return 0;
  if (!str) return undefined;
  const re = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < str.length) {
    re.lastIndex = pos;
    const m = re.exec(str);
    if (!m) return undefined;
    total += parseFloat(m[1] as string) * (UNIT_MS[m[2] as string] as number);
    pos = re.lastIndex;
  }
  return sign * total;
}

// ---- filter: a subset of go-bexpr ----------------------------------------------------------
//
//   expr := or ; or := and ("or" and)* ; and := unary ("and" unary)* ; unary := "not" unary | "(" expr ")" | match
//   match := sel ("==" | "!=") value | value ["not"] "in" sel | sel ["not"] "contains" value | sel "is" ["not"] "empty"
//   sel := Dotted.Path (into the answer's JSON, e.g. Service.Meta.slot, Service.Tags, Node.Node)
//   value := "double quoted" | `back quoted` | bare-word
// Anything else answers 400, so an unsupported filter is never silently ignored (a selector that
// runs into a list, which go-bexpr handles with "any"/"all", matches nothing).

type Tok = { t: "str" | "word" | "op" | "lp" | "rp"; v: string };

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i] as string;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '"' || ch === "`") {
      let j = i + 1;
      let v = "";
      while (j < s.length && s[j] !== ch) {
        if (ch === '"' && s[j] === "\\" && j + 1 < s.length) j++;
        v += s[j];
        j++;
      }
      if (j >= s.length) throw new Error("unterminated string");
      out.push({ t: "str", v });
      i = j + 1;
    } else if (s.startsWith("==", i) || s.startsWith("!=", i)) {
      out.push({ t: "op", v: s.slice(i, i + 2) });
      i += 2;
    } else if (ch === "(" || ch === ")") {
      out.push({ t: ch === "(" ? "lp" : "rp", v: ch });
      i++;
    } else {
      const m = /^[A-Za-z0-9_.\-/:]+/.exec(s.slice(i));
      if (!m) throw new Error(`unexpected ${JSON.stringify(ch)}`);
      out.push({ t: "word", v: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

function select(v: unknown, path: string): unknown {
  let cur: unknown = v;
  for (const part of path.split(".")) {
    if (Array.isArray(cur)) throw new Error(`selector ${path} goes through a list (use of "any"/"all" is not emulated)`);
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function contains(container: unknown, value: string): boolean {
  if (Array.isArray(container)) return container.map(String).includes(value);
  if (typeof container === "string") return container.includes(value);
  if (container && typeof container === "object") return Object.prototype.hasOwnProperty.call(container, value);
  return false;
}

export function compileFilter(expr: string | null): (v: unknown) => boolean {
  if (expr === null || expr.trim() === "") return () => true;
  try {
    const toks = tokenize(expr);
    let i = 0;
    const peek = () => toks[i];
    const kw = (w: string) => peek()?.t === "word" && peek()?.v === w;
    const next = () => {
      const t = toks[i++];
      if (!t) throw new Error("unexpected end");
      return t;
    };
    const value = () => {
      const t = next();
      if (t.t !== "str" && t.t !== "word") throw new Error(`expected a value, got ${t.v}`);
      return t.v;
    };
    const selector = () => {
      const t = next();
      if (t.t !== "word") throw new Error(`expected a selector, got ${t.v}`);
      return t.v;
    };
    type F = (v: unknown) => boolean;
    const parseOr = (): F => {
      let left = parseAnd();
      while (kw("or")) {
        i++;
        const l = left;
        const r = parseAnd();
        left = (v) => l(v) || r(v);
      }
      return left;
    };
    const parseAnd = (): F => {
      let left = parseUnary();
      while (kw("and")) {
        i++;
        const l = left;
        const r = parseUnary();
        left = (v) => l(v) && r(v);
      }
      return left;
    };
    const parseUnary = (): F => {
      if (kw("not")) {
        i++;
        const f = parseUnary();
        return (v) => !f(v);
      }
      if (peek()?.t === "lp") {
        i++;
        const f = parseOr();
        if (next().t !== "rp") throw new Error("expected )");
        return f;
      }
      return parseMatch();
    };
    const parseMatch = (): F => {
      const first = next();
      // value [not] in selector
      const isIn = toks[i]?.t === "word" && (toks[i]?.v === "in" || (toks[i]?.v === "not" && toks[i + 1]?.v === "in"));
      if (isIn) {
        const negate = toks[i]?.v === "not";
        i += negate ? 2 : 1;
        const sel = selector();
        return (v) => contains(select(v, sel), first.v) !== negate;
      }
      if (first.t !== "word") throw new Error(`expected a selector, got ${first.v}`);
      const sel = first.v;
      const op = next();
      if (op.t === "op") {
        const val = value();
        return (v) => {
          const x = select(v, sel);
          const eq = x !== undefined && x !== null && typeof x !== "object" && String(x) === val;
          return op.v === "==" ? eq : !eq;
        };
      }
      if (op.v === "contains" || (op.v === "not" && kw("contains"))) {
        const negate = op.v === "not";
        if (negate) i++;
        const val = value();
        return (v) => contains(select(v, sel), val) !== negate;
      }
      if (op.v === "is") {
        const negate = kw("not");
        if (negate) i++;
        if (!kw("empty")) throw new Error("expected empty");
        i++;
        return (v) => {
          const x = select(v, sel);
          const empty =
            x === undefined ||
            x === null ||
            x === "" ||
            (Array.isArray(x) ? x.length === 0 : typeof x === "object" && Object.keys(x).length === 0);
          return empty !== negate;
        };
      }
      throw new Error(`unsupported operator ${op.v}`);
    };
    const f = parseOr();
    if (i !== toks.length) throw new Error(`unexpected ${toks[i]?.v}`);
    return (v) => {
      try {
        return f(v);
      } catch {
        return false;
      }
    };
  } catch (err) {
    throw new ApiError(
      400,
      `Failed to create boolean expression evaluator: ${(err as Error).message} (the emulator supports a subset of go-bexpr)`,
    );
  }
}
