// The configuration file's schema (snake_case, as in config.example.yaml) and the typed Config
// that the rest of dyshard reads. Env variables and flags are written into the same raw tree
// before validation, so every value, wherever it came from, is checked by this one schema.
import { z } from "zod";
import { parseDuration, parseSize } from "./units.js";

/** A value users write as text ("2s", "1MiB") or a plain number, parsed to a number. */
const parsed = (fallback: string, parse: (v: string | number) => number | undefined, expected: string) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((v, ctx) => {
      const n = parse(v);
      if (n === undefined) {
        ctx.addIssue({ code: "custom", message: `expected ${expected}, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return n;
    });

const duration = (fallback: string) => parsed(fallback, parseDuration, "a duration such as 500ms, 2s or 1m");
const size = (fallback: string) => parsed(fallback, parseSize, "a size such as 1MiB, 512KiB or 1048576");

const count = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** "auto" (0: sized for the machine when the listener starts, src/http/max-connections.ts) or a count ≥ 1. */
const connections = z
  .union([z.string(), z.number()])
  .default("auto")
  .transform((v, ctx) => {
    if (v === "auto") return 0;
    const n = typeof v === "number" ? v : /^\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) {
      ctx.addIssue({ code: "custom", message: `expected auto or a number of connections of at least 1, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });

const upstreamUrl = z.string().transform((v, ctx) => {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    ctx.addIssue({ code: "custom", message: `not a URL: ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    ctx.addIssue({ code: "custom", message: `only http and https upstreams are supported, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  if (url.search || url.hash) {
    ctx.addIssue({ code: "custom", message: `an upstream URL takes no query or fragment: ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return url.origin + url.pathname.replace(/\/+$/, "");
});

const upstream = z.union([
  upstreamUrl.transform((url) => ({ url, slot: undefined as number | undefined, retired: false })),
  z.object({ url: upstreamUrl, slot: z.coerce.number().int().min(0).max(4095).optional(), retired: z.boolean().default(false) }).strict(),
]);

export const PROMETHEUS_NAME = /^[A-Za-z0-9_.-]+$/;

/** A Prometheus server dyshard allocates Pushgateways to: `NAME=URL` or `{name, url}`. */
const prometheus = z
  .union([
    z.string().transform((v, ctx) => {
      const eq = v.indexOf("=");
      if (eq < 1) {
        ctx.addIssue({ code: "custom", message: `expected NAME=URL such as prom-a=http://127.0.0.1:9090, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return { name: v.slice(0, eq), url: v.slice(eq + 1) };
    }),
    z.object({ name: z.string(), url: z.string() }).strict(),
  ])
  .pipe(
    z.object({
      name: z.string().regex(PROMETHEUS_NAME, "a Prometheus server's name takes letters, digits, '_', '.' and '-'"),
      url: upstreamUrl,
    }),
  );

const listen = z.string().transform((v, ctx) => {
  const m = v.match(/^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    ctx.addIssue({ code: "custom", message: `expected HOST:PORT such as 0.0.0.0:9091, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
});

/**
 * Group expiry by job (--group-ttl-by-job, group_ttl_by_job): a mapping `{backup: 48h, "*": 6h}`
 * in the file, `job=duration` entries from a flag or variable; 0 exempts a job.
 */
const ttlByJob = z
  .union([
    z.record(z.union([z.string(), z.number()])),
    z.array(z.string()).transform((entries, ctx) => {
      const out: Record<string, string> = {};
      for (const e of entries) {
        const eq = e.lastIndexOf("=");
        if (eq < 1) ctx.addIssue({ code: "custom", message: `expected JOB=DURATION such as backup=48h, got ${JSON.stringify(e)}` });
        else out[e.slice(0, eq)] = e.slice(eq + 1);
      }
      return out;
    }),
  ])
  .default({})
  .transform((byJob, ctx) => {
    const out: Record<string, number> = {};
    for (const [job, v] of Object.entries(byJob)) {
      const ms = parseDuration(v);
      if (ms === undefined)
        ctx.addIssue({
          code: "custom",
          message: `job ${JSON.stringify(job)}: expected a duration such as 6h or 7d, got ${JSON.stringify(v)}`,
        });
      else out[job] = ms;
    }
    return out;
  });

const flag = z.union([z.boolean(), z.enum(["true", "false", "1", "0", "yes", "no"]).transform((v) => ["true", "1", "yes"].includes(v))]);

const consul = z
  .object({
    address: upstreamUrl.default("http://127.0.0.1:8500"),
    token: z.string().default(""),
    datacenter: z.string().default(""),
    service: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, "a Consul service name (letters, digits, - and _)")
      .default("pushgateway"),
    tag: z.string().default(""),
    wait: duration("30s"),
    register: flag.default(false),
    check_interval: duration("5s"),
    check_timeout: duration("2s"),
    /** "" (never) or at least 1m, as Consul requires. */
    deregister_critical_after: z
      .union([z.string(), z.number()])
      .default("")
      .transform((v, ctx) => {
        if (v === "" || v === "0") return 0;
        const ms = parseDuration(v);
        if (ms === undefined || ms < 60_000) {
          ctx.addIssue({ code: "custom", message: `expected "" (never) or a duration of at least 1m, got ${JSON.stringify(v)}` });
          return z.NEVER;
        }
        return ms;
      }),
    /** HOST:PORT under which Consul and Prometheus reach this dyshard (default: this host's name and the listen port). */
    advertise: z.string().default(""),
  })
  .strict();

export const fileSchema = z
  .object({
    listen: listen.default("0.0.0.0:9091"),
    mode: z.enum(["proxy", "redirect"]).default("proxy"),
    engine: z.enum(["undici", "native", "http-proxy"]).default("native"),
    shard_by: z.enum(["group", "job"]).default("group"),
    upstreams: z.array(upstream).default([]),
    health: z
      .object({ interval: duration("2s"), timeout: duration("1s"), rise: count(2), fall: count(3) })
      .strict()
      .default({}),
    limits: z
      .object({
        max_body: size("64MiB"),
        retry_body: size("1MiB"),
        /** "": the system's temporary directory. */
        spool_dir: z.string().default(""),
        max_spool: size("1GiB"),
        client_body_timeout: duration("60s"),
        upstream_timeout: duration("30s"),
        client_header_timeout: duration("10s"),
        client_idle_timeout: duration("60s"),
        shutdown_timeout: duration("10s"),
        max_header_size: size("1MiB"),
        max_connections: connections,
      })
      .strict()
      .default({}),
    handover: z
      .object({
        rebalance_interval: duration("1m"),
        settle: duration("5s"),
        concurrency: count(4),
        max_inventory: size("256MiB"),
        recent_window: duration("10m"),
        lock_key: z.string().default(""),
        lock_ttl: duration("15s"),
      })
      .strict()
      .default({}),
    discovery: z
      .object({ type: z.enum(["static", "consul"]).default("static"), consul: consul.default({}) })
      .strict()
      .default({}),
    replicas: z.coerce.number().int().min(1).max(8).default(1),
    group_ttl: duration("0"),
    group_ttl_by_job: ttlByJob,
    prometheus: z
      .array(prometheus)
      .default([])
      .superRefine((servers, ctx) => {
        const seen = new Set<string>();
        for (const { name } of servers) {
          if (seen.has(name))
            ctx.addIssue({ code: "custom", message: `the Prometheus server name ${JSON.stringify(name)} is given twice` });
          seen.add(name);
        }
      }),
    scrape_replicas: count(1),
    workers: z.coerce.number().int().min(1).max(64).default(1),
    /** Credentials files (src/auth/auth-file.ts); "": no auth. */
    auth: z
      .object({ push_file: z.string().default(""), admin_file: z.string().default("") })
      .strict()
      .default({}),
    tls: z
      .object({ cert_file: z.string().default(""), key_file: z.string().default("") })
      .strict()
      .default({})
      .superRefine((t, ctx) => {
        if (Boolean(t.cert_file) !== Boolean(t.key_file))
          ctx.addIssue({ code: "custom", message: "serving HTTPS takes both a certificate (--tls-cert) and its key (--tls-key)" });
      }),
    upstream_tls: z
      .object({ ca_file: z.string().default(""), insecure_skip_verify: flag.default(false) })
      .strict()
      .default({}),
    upstream_auth_file: z.string().default(""),
    enable_admin_api: flag.default(false),
    log_level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  })
  .strict();

export type RawConfig = z.input<typeof fileSchema>;

export interface UpstreamConfig {
  url: string;
  slot: number;
  retired: boolean;
}

export interface Config {
  listen: { host: string; port: number };
  mode: "proxy" | "redirect";
  engine: "undici" | "native" | "http-proxy";
  shardBy: "group" | "job";
  upstreams: UpstreamConfig[];
  health: { intervalMs: number; timeoutMs: number; rise: number; fall: number };
  limits: {
    maxBodyBytes: number;
    retryBodyBytes: number;
    /** Bodies over retryBodyBytes are spooled in a folder of dyshard's own here. */
    spoolDir: string;
    /** 0: no spooling. */
    maxSpoolBytes: number;
    /** 0: no body-read timeout. */
    clientBodyTimeoutMs: number;
    upstreamTimeoutMs: number;
    clientHeaderTimeoutMs: number;
    clientIdleTimeoutMs: number;
    shutdownTimeoutMs: number;
    /** Request line and headers together; Go's net/http (the Pushgateway) takes 1 MiB. */
    maxHeaderBytes: number;
    /** Open client connections of all processes together; 0: sized for the machine (src/http/max-connections.ts). */
    maxConnections: number;
  };
  handover: {
    /** 0: no periodic sweep. */
    rebalanceIntervalMs: number;
    settleMs: number;
    concurrency: number;
    maxInventoryBytes: number;
    recentWindowMs: number;
    /** Consul KV key of the one-at-a-time lock ("" = dyshard/handover/<service>). */
    lockKey: string;
    lockTtlMs: number;
  };
  discovery: {
    type: "static" | "consul";
    consul: {
      address: string;
      token: string;
      datacenter: string;
      service: string;
      tag: string;
      waitMs: number;
      register: boolean;
      checkIntervalMs: number;
      checkTimeoutMs: number;
      /** 0: never. */
      deregisterCriticalAfterMs: number;
      advertise: string;
    };
  };
  /** Copies of every group: its primary on the owner and replicas − 1 standby copies (1: none). */
  replicas: number;
  /** Group expiry: groups nobody pushed for this long are deleted by the sweep (0: never); by job, "*" for the rest. */
  groupTtl: { defaultMs: number; byJobMs: Record<string, number> };
  /** The Prometheus servers Pushgateways are allocated to (slot = position), none by default. */
  prometheus: { name: string; url: string; slot: number }[];
  /** Prometheus servers each Pushgateway is allocated to. */
  scrapeReplicas: number;
  /** Processes serving pushes (node:cluster); 1 = a single process doing everything. */
  workers: number;
  /** --push-auth-file and --admin-auth-file ("": none). */
  auth: { pushFile: string; adminFile: string };
  /** Serve HTTPS with these PEM files (both "" = plain HTTP); re-read on SIGHUP. */
  tls: { certFile: string; keyFile: string };
  /** How https upstreams are verified: the CAs in caFile ("" = the system's), or not at all. */
  upstreamTls: { caFile: string; insecureSkipVerify: boolean };
  /** YAML file of the credentials dyshard sends to upstreams ("" = none; src/upstream/credentials.ts). */
  upstreamAuthFile: string;
  /** PUT /api/v1/admin/wipe is served (fanned out to every instance); off: 403. */
  enableAdminApi: boolean;
  logLevel: string;
  /** Every setting's effective value as text, keyed by its flag without `--` (for /api/v1/status; secrets hidden). */
  settings: Record<string, string>;
}
