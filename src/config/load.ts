// One table names every setting once: its place in the file, its DYSHARD_* variable and its flag.
// Precedence: flags over environment over file over defaults.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { fileSchema, type Config, type RawConfig, type UpstreamConfig } from "./schema.js";
import { settingValues } from "./setting-values.js";

export interface Setting {
  /** Dotted path in the YAML file. */
  path: string;
  flag: string;
  env: string;
  description: string;
  /** Repeatable flag; its environment variable is comma-separated. */
  list?: boolean;
}

export const SETTINGS: Setting[] = [
  {
    path: "listen",
    flag: "--listen <host:port>",
    env: "DYSHARD_LISTEN",
    description: "address to listen on (default 0.0.0.0:9091, the Pushgateway's port)",
  },
  {
    path: "upstreams",
    flag: "--upstream <url>",
    env: "DYSHARD_UPSTREAMS",
    description: "a Pushgateway URL, may carry a path prefix (repeatable)",
    list: true,
  },
  { path: "mode", flag: "--mode <proxy|redirect>", env: "DYSHARD_MODE", description: "proxy pushes (default) or answer 307 to the owner" },
  {
    path: "engine",
    flag: "--engine <native|undici|http-proxy>",
    env: "DYSHARD_ENGINE",
    description: "forwarding engine in proxy mode (default native)",
  },
  {
    path: "shard_by",
    flag: "--shard-by <group|job>",
    env: "DYSHARD_SHARD_BY",
    description: "route each group on its own (default) or all groups of a job together",
  },
  {
    path: "health.interval",
    flag: "--health-interval <duration>",
    env: "DYSHARD_HEALTH_INTERVAL",
    description: "active health check interval (default 2s)",
  },
  {
    path: "health.timeout",
    flag: "--health-timeout <duration>",
    env: "DYSHARD_HEALTH_TIMEOUT",
    description: "active health check timeout (default 1s)",
  },
  {
    path: "health.rise",
    flag: "--health-rise <n>",
    env: "DYSHARD_HEALTH_RISE",
    description: "passing checks before an upstream is up (default 2)",
  },
  {
    path: "health.fall",
    flag: "--health-fall <n>",
    env: "DYSHARD_HEALTH_FALL",
    description: "failing checks before an upstream is down (default 3)",
  },
  {
    path: "limits.max_body",
    flag: "--max-body <size>",
    env: "DYSHARD_MAX_BODY",
    description: "largest push body accepted, else 413 (default 64MiB)",
  },
  {
    path: "limits.retry_body",
    flag: "--retry-body <size>",
    env: "DYSHARD_RETRY_BODY",
    description: "bodies up to this size are held and retried on failover (default 1MiB)",
  },
  {
    path: "limits.spool_dir",
    flag: "--spool-dir <dir>",
    env: "DYSHARD_SPOOL_DIR",
    description: "where bodies over --retry-body wait on disk until complete (default: the system's temporary directory)",
  },
  {
    path: "limits.max_spool",
    flag: "--max-spool <size>",
    env: "DYSHARD_MAX_SPOOL",
    description: "disk all spooled bodies may take together; past it bodies stream, not retried (default 1GiB; 0 turns spooling off)",
  },
  {
    path: "limits.client_body_timeout",
    flag: "--client-body-timeout <duration>",
    env: "DYSHARD_CLIENT_BODY_TIMEOUT",
    description: "longest wait between two reads of a push body, else 408 (default 60s; 0 turns it off)",
  },
  {
    path: "limits.upstream_timeout",
    flag: "--upstream-timeout <duration>",
    env: "DYSHARD_UPSTREAM_TIMEOUT",
    description: "upstream answer timeout, else 504 (default 30s)",
  },
  {
    path: "limits.client_header_timeout",
    flag: "--client-header-timeout <duration>",
    env: "DYSHARD_CLIENT_HEADER_TIMEOUT",
    description: "time a client has to send its headers (default 10s)",
  },
  {
    path: "limits.client_idle_timeout",
    flag: "--client-idle-timeout <duration>",
    env: "DYSHARD_CLIENT_IDLE_TIMEOUT",
    description: "idle keep-alive connections close after this (default 60s)",
  },
  {
    path: "limits.max_header_size",
    flag: "--max-header-size <size>",
    env: "DYSHARD_MAX_HEADER_SIZE",
    description: "largest request line and headers together, else 431 (default 1MiB, the Pushgateway's)",
  },
  {
    path: "limits.max_connections",
    flag: "--max-connections <n|auto>",
    env: "DYSHARD_MAX_CONNECTIONS",
    description:
      "open client connections, all --workers together; one more is answered 503 and closed (default auto: sized from the open-file limit)",
  },
  {
    path: "limits.shutdown_timeout",
    flag: "--shutdown-timeout <duration>",
    env: "DYSHARD_SHUTDOWN_TIMEOUT",
    description: "how long in-flight requests may finish on SIGTERM (default 10s)",
  },
  {
    path: "handover.rebalance_interval",
    flag: "--rebalance-interval <duration>",
    env: "DYSHARD_REBALANCE_INTERVAL",
    description: "periodic handover sweep of stale groups (default 1m; 0 turns it off)",
  },
  {
    path: "handover.settle",
    flag: "--rebalance-settle <duration>",
    env: "DYSHARD_REBALANCE_SETTLE",
    description: "wait after a ring change before handing groups over (default 5s)",
  },
  {
    path: "handover.concurrency",
    flag: "--rebalance-concurrency <n>",
    env: "DYSHARD_REBALANCE_CONCURRENCY",
    description: "Pushgateway requests in flight during a handover (default 4)",
  },
  {
    path: "handover.max_inventory",
    flag: "--rebalance-max-inventory <size>",
    env: "DYSHARD_REBALANCE_MAX_INVENTORY",
    description: "largest /api/v1/metrics answer read from one instance (default 256MiB)",
  },
  {
    path: "handover.recent_window",
    flag: "--rebalance-recent-window <duration>",
    env: "DYSHARD_REBALANCE_RECENT_WINDOW",
    description: "after an owner change, a push also deletes the group's copy at the old owner this long (default 10m; 0: never)",
  },
  {
    path: "handover.lock_key",
    flag: "--rebalance-lock-key <key>",
    env: "DYSHARD_REBALANCE_LOCK_KEY",
    description: "Consul KV key of the one-at-a-time handover lock (default dyshard/handover/<service>)",
  },
  {
    path: "handover.lock_ttl",
    flag: "--rebalance-lock-ttl <duration>",
    env: "DYSHARD_REBALANCE_LOCK_TTL",
    description: "TTL of the Consul session behind the one-at-a-time handover lock (default 15s; Consul's minimum is 10s)",
  },
  {
    path: "discovery.type",
    flag: "--discovery <static|consul>",
    env: "DYSHARD_DISCOVERY",
    description: "where membership and health come from (default static: --upstream and own checks)",
  },
  {
    path: "discovery.consul.address",
    flag: "--consul-address <url>",
    env: "DYSHARD_CONSUL_ADDRESS",
    description: "Consul HTTP API (default http://127.0.0.1:8500)",
  },
  { path: "discovery.consul.token", flag: "--consul-token <token>", env: "DYSHARD_CONSUL_TOKEN", description: "Consul ACL token" },
  {
    path: "discovery.consul.datacenter",
    flag: "--consul-datacenter <dc>",
    env: "DYSHARD_CONSUL_DATACENTER",
    description: "Consul datacenter (default: the agent's)",
  },
  {
    path: "discovery.consul.service",
    flag: "--consul-service <name>",
    env: "DYSHARD_CONSUL_SERVICE",
    description: "Consul service of the Pushgateways (default pushgateway)",
  },
  { path: "discovery.consul.tag", flag: "--consul-tag <tag>", env: "DYSHARD_CONSUL_TAG", description: "only instances with this tag" },
  {
    path: "discovery.consul.wait",
    flag: "--consul-wait <duration>",
    env: "DYSHARD_CONSUL_WAIT",
    description: "blocking query wait (default 30s)",
  },
  {
    path: "discovery.consul.register",
    flag: "--consul-register",
    env: "DYSHARD_CONSUL_REGISTER",
    description: "register the configured upstreams (and dyshard itself) in Consul",
  },
  {
    path: "discovery.consul.check_interval",
    flag: "--consul-check-interval <duration>",
    env: "DYSHARD_CONSUL_CHECK_INTERVAL",
    description: "interval of the registered HTTP checks (default 5s)",
  },
  {
    path: "discovery.consul.check_timeout",
    flag: "--consul-check-timeout <duration>",
    env: "DYSHARD_CONSUL_CHECK_TIMEOUT",
    description: "timeout of the registered HTTP checks (default 2s)",
  },
  {
    path: "discovery.consul.deregister_critical_after",
    flag: "--consul-deregister-after <duration>",
    env: "DYSHARD_CONSUL_DEREGISTER_AFTER",
    description: "Consul removes an instance critical this long (at least 1m; default never)",
  },
  {
    path: "discovery.consul.advertise",
    flag: "--consul-advertise <host:port>",
    env: "DYSHARD_CONSUL_ADVERTISE",
    description: "address of this dyshard for its own registration (default hostname:listen port)",
  },
  {
    path: "workers",
    flag: "--workers <n>",
    env: "DYSHARD_WORKERS",
    description: "worker processes serving pushes, all on one ring (default 1)",
  },
  {
    path: "replicas",
    flag: "--replicas <n>",
    env: "DYSHARD_REPLICAS",
    description: "copies of every group: the primary on its owner and n-1 standby copies that the handover promotes (default 1: none)",
  },
  {
    path: "group_ttl",
    flag: "--group-ttl <duration>",
    env: "DYSHARD_GROUP_TTL",
    description: "the sweep deletes every copy of a group nobody pushed for this long (default 0: never)",
  },
  {
    path: "group_ttl_by_job",
    flag: "--group-ttl-by-job <job=duration>",
    env: "DYSHARD_GROUP_TTL_BY_JOB",
    description: 'a job\'s own group expiry, "*" for every other job, 0 for never (repeatable; in the file a mapping)',
    list: true,
  },
  {
    path: "prometheus",
    flag: "--prometheus <name=url>",
    env: "DYSHARD_PROMETHEUS",
    description: "a Prometheus server to allocate Pushgateways to, served at /-/dyshard/sd?prometheus=NAME (repeatable; keep the order)",
    list: true,
  },
  {
    path: "scrape_replicas",
    flag: "--scrape-replicas <n>",
    env: "DYSHARD_SCRAPE_REPLICAS",
    description: "Prometheus servers each Pushgateway is allocated to (default 1)",
  },
  {
    path: "auth.push_file",
    flag: "--push-auth-file <file>",
    env: "DYSHARD_PUSH_AUTH_FILE",
    description:
      "pushes and every endpoint but /-/healthy and /-/ready need a credential of this file (basic_auth_users as a Pushgateway's --web.config.file, bearer_tokens)",
  },
  {
    path: "auth.admin_file",
    flag: "--admin-auth-file <file>",
    env: "DYSHARD_ADMIN_AUTH_FILE",
    description: "admin endpoints (POST /-/dyshard/rebalance) need a credential of this file, not the push one",
  },
  {
    path: "tls.cert_file",
    flag: "--tls-cert <file>",
    env: "DYSHARD_TLS_CERT",
    description: "serve HTTPS with this PEM certificate (chain), re-read on SIGHUP (default: plain HTTP)",
  },
  { path: "tls.key_file", flag: "--tls-key <file>", env: "DYSHARD_TLS_KEY", description: "the PEM private key of --tls-cert" },
  {
    path: "upstream_tls.ca_file",
    flag: "--upstream-ca <file>",
    env: "DYSHARD_UPSTREAM_CA",
    description: "PEM CA certificates trusted for https upstreams (default: the system's)",
  },
  {
    path: "upstream_tls.insecure_skip_verify",
    flag: "--upstream-insecure-skip-verify",
    env: "DYSHARD_UPSTREAM_INSECURE_SKIP_VERIFY",
    description: "do not verify https upstreams' certificates (insecure; logged as a warning)",
  },
  {
    path: "upstream_auth_file",
    flag: "--upstream-auth-file <file>",
    env: "DYSHARD_UPSTREAM_AUTH_FILE",
    description: "YAML file of the basic auth or bearer token credentials sent to upstreams (see the README)",
  },
  {
    path: "enable_admin_api",
    flag: "--enable-admin-api",
    env: "DYSHARD_ENABLE_ADMIN_API",
    description: "serve PUT /api/v1/admin/wipe, fanned out to every instance (default off: 403)",
  },
  {
    path: "log_level",
    flag: "--log-level <level>",
    env: "DYSHARD_LOG_LEVEL",
    description: "trace, debug, info (default), warn, error, silent",
  },
];

/** The camelCase key commander gives a setting's flag (`--health-interval` → `healthInterval`). */
export function optionKey(s: Setting): string {
  const long = (s.flag.split(" ")[0] as string).slice(2);
  return long.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export class ConfigError extends Error {}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Flag values keyed by optionKey(); undefined means not given. */
  flags?: Record<string, unknown>;
}

export function loadConfig({ file, env = {}, flags = {} }: LoadOptions): Config {
  const raw: Record<string, unknown> = file ? readConfigFile(file) : {};
  for (const s of SETTINGS) {
    const fromEnv = env[s.env];
    if (fromEnv !== undefined && fromEnv !== "")
      setPath(
        raw,
        s.path,
        s.list
          ? fromEnv
              .split(",")
              .map((v) => v.trim())
              .filter(Boolean)
          : fromEnv,
      );
    const fromFlag = flags[optionKey(s)];
    if (fromFlag !== undefined && !(Array.isArray(fromFlag) && fromFlag.length === 0)) setPath(raw, s.path, fromFlag);
  }
  const parsed = fileSchema.safeParse(raw as RawConfig);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.join(".") || "(config)";
    const setting = SETTINGS.find((s) => key === s.path || key.startsWith(s.path + "."));
    const where = setting ? ` (${setting.flag.split(" ")[0] as string}, ${setting.env})` : "";
    throw new ConfigError(`invalid ${key}${where}: ${issue?.message ?? "invalid value"}`);
  }
  const c = parsed.data;
  return {
    listen: c.listen,
    mode: c.mode,
    engine: c.engine,
    shardBy: c.shard_by,
    upstreams: assignSlots(c.upstreams),
    health: { intervalMs: c.health.interval, timeoutMs: c.health.timeout, rise: c.health.rise, fall: c.health.fall },
    limits: {
      maxBodyBytes: c.limits.max_body,
      retryBodyBytes: c.limits.retry_body,
      spoolDir: c.limits.spool_dir || tmpdir(),
      maxSpoolBytes: c.limits.max_spool,
      clientBodyTimeoutMs: c.limits.client_body_timeout,
      upstreamTimeoutMs: c.limits.upstream_timeout,
      clientHeaderTimeoutMs: c.limits.client_header_timeout,
      clientIdleTimeoutMs: c.limits.client_idle_timeout,
      shutdownTimeoutMs: c.limits.shutdown_timeout,
      maxHeaderBytes: c.limits.max_header_size,
      maxConnections: c.limits.max_connections,
    },
    handover: {
      rebalanceIntervalMs: c.handover.rebalance_interval,
      settleMs: c.handover.settle,
      concurrency: c.handover.concurrency,
      maxInventoryBytes: c.handover.max_inventory,
      recentWindowMs: c.handover.recent_window,
      lockKey: c.handover.lock_key,
      lockTtlMs: c.handover.lock_ttl,
    },
    discovery: {
      type: c.discovery.type,
      consul: {
        address: c.discovery.consul.address,
        token: c.discovery.consul.token,
        datacenter: c.discovery.consul.datacenter,
        service: c.discovery.consul.service,
        tag: c.discovery.consul.tag,
        waitMs: c.discovery.consul.wait,
        register: c.discovery.consul.register,
        checkIntervalMs: c.discovery.consul.check_interval,
        checkTimeoutMs: c.discovery.consul.check_timeout,
        deregisterCriticalAfterMs: c.discovery.consul.deregister_critical_after,
        advertise: c.discovery.consul.advertise,
      },
    },
    replicas: c.replicas,
    groupTtl: { defaultMs: c.group_ttl, byJobMs: c.group_ttl_by_job },
    prometheus: c.prometheus.map((p, slot) => ({ ...p, slot })),
    scrapeReplicas: c.scrape_replicas,
    workers: c.workers,
    auth: { pushFile: c.auth.push_file, adminFile: c.auth.admin_file },
    tls: { certFile: c.tls.cert_file, keyFile: c.tls.key_file },
    upstreamTls: { caFile: c.upstream_tls.ca_file, insecureSkipVerify: c.upstream_tls.insecure_skip_verify },
    upstreamAuthFile: c.upstream_auth_file,
    enableAdminApi: c.enable_admin_api,
    logLevel: c.log_level,
    settings: settingValues(SETTINGS, c),
  };
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    // Loaded only when a file is given (most deployments use flags or the environment).
    const { parse } = createRequire(import.meta.url)("yaml") as typeof import("yaml");
    doc = parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new ConfigError(`config file ${file} must hold a YAML mapping`);
  return doc as Record<string, unknown>;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof node[k] !== "object" || node[k] === null) node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] as string] = value;
}

/** An entry's slot is its position in the list unless it sets one; slots must be unique. */
export function assignSlots(entries: { url: string; slot?: number | undefined; retired: boolean }[]): UpstreamConfig[] {
  const taken = new Map<number, string>();
  const out = entries.map((e, i) => ({ url: e.url, slot: e.slot ?? i, retired: e.retired }));
  for (const u of out) {
    const other = taken.get(u.slot);
    if (other !== undefined) throw new ConfigError(`invalid upstreams: slot ${u.slot} is given to both ${other} and ${u.url}`);
    taken.set(u.slot, u.url);
  }
  return out.sort((a, b) => a.slot - b.slot);
}
