// The README's demo (`npm run demo`): three real Pushgateways on 127.0.0.1, dyshard in front of
// them, a handful of example pushes, a table of where each group landed, and commands to try.
// When `prometheus` is installed, one Prometheus scrapes them through dyshard's http_sd and the
// demo tells what happens to a group when its owner dies and comes back (demo-prometheus.ts).
// Runs until Ctrl-C, then stops everything it started (by PID). `--smoke` exits after printing:
// 0 when every push, every placement check and every step with Prometheus passed, 1 otherwise.
import { isAbsolute, relative } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config/load.js";
import { createLogger } from "../src/core/logger.js";
import { parsePushPath, routingKey, type GroupingKey } from "../src/pushgateway/grouping-key.js";
import { startApp, type App } from "../src/runtime/single-process.js";
import { HOST, markStopping, onPath, portIsFree, startServer, stopStarted, type Server, type ServerSpec } from "./demo-processes.js";
import { prometheusStory, startPrometheus } from "./demo-prometheus.js";

const SMOKE = process.argv.includes("--smoke");
const PUSHGATEWAY = "prometheus-pushgateway";
const PROMETHEUS = "prometheus";
const PUSHGATEWAY_PORTS = [9101, 9102, 9103];
const DYSHARD_PORT = 9091;
const BIN_DYSHARD = fileURLToPath(new URL("../../bin/dyshard.js", import.meta.url));

type Gateway = Server;

const gateways: Gateway[] = [];
let app: App | undefined;
const problems: string[] = [];

const out = (line = "") => process.stdout.write(line + "\n");

// ---------------------------------------------------------------------------------------------
// Processes

function pushgatewaySpec(bin: string, preferred = 0): (name: string) => ServerSpec {
  return (name) => ({
    name,
    bin,
    args: (port) => ["--persistence.file=", `--web.listen-address=${HOST}:${port}`, "--log.level=warn"],
    preferred,
    readyPath: "/-/ready",
    readyWithinMs: 10_000,
    onUnexpectedExit: (gw, how) =>
      out(`! ${gw.name} (pid ${gw.proc.pid}) exited unexpectedly (${how}); dyshard routes its groups to the others`),
  });
}

async function startDyshard(upstreams: string[]): Promise<App> {
  const ports = (await portIsFree(DYSHARD_PORT)) ? [DYSHARD_PORT, 0] : [0];
  let lastError: unknown;
  for (const port of ports) {
    const config = loadConfig({ env: {}, flags: { listen: `${HOST}:${port}`, upstream: upstreams, logLevel: "warn" } });
    try {
      return await startApp(config, createLogger("warn", logLines));
    } catch (err) {
      lastError = err;
      if ((err as { code?: string }).code !== "EADDRINUSE") break;
    }
  }
  throw lastError;
}

/** dyshard's log (JSON lines) as short indented lines among the demo's own. */
const logLines = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString().split("\n").filter(Boolean)) {
      try {
        const { msg, upstream, reason } = JSON.parse(line) as Record<string, string | undefined>;
        out(`     (dyshard logs: ${[msg, upstream, reason].filter(Boolean).join(", ")})`);
      } catch {
        out(`     (dyshard logs: ${line})`);
      }
    }
    done();
  },
});

/** Stops dyshard and every process this demo started. */
async function stopEverything(): Promise<void> {
  markStopping();
  await app?.stop().catch(() => undefined);
  await stopStarted();
}

// ---------------------------------------------------------------------------------------------
// The example pushes

const b64 = (s: string) => Buffer.from(s).toString("base64url");

interface Example {
  note: string;
  /** Several spellings of the same group; each is pushed in turn. */
  paths: string[];
}

const EXAMPLES: Example[] = [
  {
    note: "3 spellings: label order swapped, a value in @base64",
    paths: [
      "/metrics/job/backup/instance/db-1/region/eu",
      "/metrics/job/backup/region/eu/instance/db-1",
      `/metrics/job/backup/instance@base64/${b64("db-1")}/region/eu`,
    ],
  },
  { note: "", paths: ["/metrics/job/backup/instance/db-2/region/eu"] },
  { note: "", paths: ["/metrics/job/backup/instance/db-3/region/us"] },
  { note: "", paths: ["/metrics/job/nightly_etl/stage/extract"] },
  { note: "", paths: ["/metrics/job/nightly_etl/stage/load"] },
  { note: "a value with a slash, sent as @base64", paths: [`/metrics/job/deploy/app@base64/${b64("shop/web")}`] },
  { note: "2 spellings: with and without a trailing slash", paths: ["/metrics/job/cleanup", "/metrics/job/cleanup/"] },
];

function groupOf(path: string): GroupingKey {
  const parsed = parsePushPath(path);
  if (parsed.kind !== "group") throw new Error(`demo bug: ${path} is not a push path`);
  return parsed.group;
}

/** `{job="backup", instance="db-1", region="eu"}`: the job first, then the labels by name. */
function showGroup(labels: Record<string, string>): string {
  const { job, ...rest } = labels;
  const parts = [
    `job=${JSON.stringify(job ?? "")}`,
    ...Object.keys(rest)
      .sort()
      .map((k) => `${k}=${JSON.stringify(rest[k])}`),
  ];
  return `{${parts.join(", ")}}`;
}

const labelId = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** A push through dyshard; its status (0 when it failed), recorded as a problem unless 200. */
async function push(base: string, method: string, path: string, value: number): Promise<number> {
  const body = `# TYPE demo_records_processed gauge\ndemo_records_processed ${value}\n# TYPE demo_last_success_timestamp_seconds gauge\ndemo_last_success_timestamp_seconds ${Math.floor(Date.now() / 1000)}\n`;
  try {
    const res = await fetch(base + path, {
      method,
      body,
      headers: { "content-type": "text/plain; version=0.0.4" },
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (res.status !== 200) problems.push(`${method} ${path} answered ${res.status}: ${text.trim()}`);
    return res.status;
  } catch (err) {
    problems.push(`${method} ${path} failed: ${(err as Error).message}`);
    return 0;
  }
}

async function groupsOn(gw: Gateway): Promise<Record<string, string>[]> {
  const res = await fetch(`${gw.url}/api/v1/metrics`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { data: { labels: Record<string, string> }[] };
  return body.data.map((g) => g.labels);
}

/** Each example group: its first path, its labels, and the slots of the Pushgateways holding it (a dead one holds none). */
async function placement(): Promise<{ path: string; labels: Record<string, string>; slots: number[] }[]> {
  const held = await Promise.all(gateways.map((g) => groupsOn(g).catch(() => [])));
  return EXAMPLES.map((ex) => {
    const group = groupOf(ex.paths[0]!);
    const labels = { ...group.labels, job: group.job };
    const slots = held.flatMap((groups, slot) => (groups.some((l) => labelId(l) === labelId(labels)) ? [slot] : []));
    return { path: ex.paths[0]!, labels, slots };
  });
}

/** Starts Prometheus when it is installed; undefined (and a problem) when it would not start. */
async function prometheusIfInstalled(dyshard: string): Promise<Server | undefined> {
  const bin = onPath(PROMETHEUS);
  if (bin === undefined) return undefined;
  return startPrometheus(bin, `${dyshard}/-/dyshard/sd`).catch((err: Error) => {
    problems.push(err.message);
    return undefined;
  });
}

/** The Prometheus part, following the first example's group; a step that fails is a problem. */
async function tellPrometheusStory(bin: string, prom: Server): Promise<void> {
  const first = EXAMPLES[0]!.paths[0]!;
  const group = groupOf(first);
  const labels = { ...group.labels, job: group.job };
  const stage = {
    app: app!,
    gateways,
    pushgatewaySpec: pushgatewaySpec(bin),
    push: (path: string, value: number) => push(app!.url, "PUT", path, value),
    placement,
    ownerOf: (path: string) => app!.membership.owner(routingKey(groupOf(path)))?.slot,
    follow: { path: first, shown: showGroup(labels), labels },
    out,
    problems,
  };
  await prometheusStory(stage, prom).catch((err: Error) => {
    problems.push(`with Prometheus: ${err.message}`);
    out();
  });
}

// ---------------------------------------------------------------------------------------------

/** Resolves on the first Ctrl-C or SIGTERM; a second one exits at once (the exit hook SIGKILLs what is left). */
function stopSignalled(): Promise<void> {
  return new Promise((resolve) => {
    let signals = 0;
    const onSignal = () => {
      markStopping(); // Ctrl-C reaches the children too: their exit is expected now
      if (signals++ > 0) process.exit(1);
      resolve();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

let waitingForCtrlC = false;
const stopSignal = stopSignalled();
// A signal before the demo waits for it (while it starts, pushes or talks to Prometheus): stop all it started.
void stopSignal.then(async () => {
  if (waitingForCtrlC) return;
  out("interrupted: stopping everything the demo started...");
  await stopEverything();
  process.exit(130);
});

async function main(): Promise<void> {
  const bin = onPath(PUSHGATEWAY);
  if (bin === undefined) {
    process.stderr.write(`demo: ${PUSHGATEWAY} is not installed: run \`sudo apt-get install -y prometheus-pushgateway\`\n`);
    process.exit(1);
  }

  gateways.push(...(await Promise.all(PUSHGATEWAY_PORTS.map((port, i) => startServer(pushgatewaySpec(bin, port)(`pg-${i + 1}`))))));
  app = await startDyshard(gateways.map((g) => g.url));
  const dyshard = app.url;
  const prometheus = prometheusIfInstalled(dyshard); // starts while the examples are pushed

  out("dyshard demo: three real Pushgateways behind one dyshard, all on 127.0.0.1");
  out();
  for (const g of gateways) out(`  ${g.name}     ${g.url}   (prometheus-pushgateway, pid ${g.proc.pid})`);
  out(`  dyshard  ${dyshard}   (mode ${app.config.mode}, in this process, pid ${process.pid})`);
  out();

  // Push every spelling of every example through dyshard, alternating PUT and POST.
  let n = 0;
  for (const ex of EXAMPLES) for (const path of ex.paths) await push(dyshard, n++ % 2 === 0 ? "PUT" : "POST", path, 100 + n);

  // Where did each group land? Ask every Pushgateway, and check against dyshard's ring.
  const holders = new Map<string, Gateway[]>();
  let stored = 0;
  for (const g of gateways) {
    for (const labels of await groupsOn(g)) {
      stored++;
      const id = labelId(labels);
      holders.set(id, [...(holders.get(id) ?? []), g]);
    }
  }
  const rows = EXAMPLES.map((ex) => {
    const group = groupOf(ex.paths[0] as string);
    const labels = { ...group.labels, job: group.job };
    const on = holders.get(labelId(labels)) ?? [];
    const owner = app!.membership.owner(routingKey(group));
    if (on.length !== 1)
      problems.push(
        `${showGroup(labels)} is on ${on.length} Pushgateways (${on.map((g) => g.name).join(", ") || "none"}), expected exactly one`,
      );
    else if (on[0]!.url !== owner?.url)
      problems.push(`${showGroup(labels)} is on ${on[0]!.name} but the ring names ${owner?.url ?? "no owner"}`);
    return {
      group: showGroup(labels),
      pushes: ex.paths.length,
      where: on.map((g) => `${g.name} ${g.url}`).join(" + ") || "(nowhere)",
      note: ex.note,
    };
  });
  if (stored !== EXAMPLES.length)
    problems.push(`the Pushgateways hold ${stored} groups in all, expected ${EXAMPLES.length} (one per example)`);

  const pushes = EXAMPLES.reduce((sum, ex) => sum + ex.paths.length, 0);
  out(`Pushed ${pushes} times through dyshard, ${EXAMPLES.length} distinct groups. Where each group landed:`);
  out();
  const w1 = Math.max(5, ...rows.map((r) => r.group.length));
  const w3 = Math.max(11, ...rows.map((r) => r.where.length));
  out(`  ${"GROUP".padEnd(w1)}  PUSHES  ${"PUSHGATEWAY".padEnd(w3)}  NOTE`);
  for (const r of rows) out(`  ${r.group.padEnd(w1)}  ${String(r.pushes).padStart(6)}  ${r.where.padEnd(w3)}  ${r.note}`.trimEnd());
  out();
  out(
    `  Groups per Pushgateway: ${gateways.map((g) => `${g.name} ${rows.filter((r) => r.where.startsWith(g.name + " ")).length}`).join(", ")}.`,
  );
  out("  Every spelling of a group reached the same Pushgateway, so each group is stored once.");
  out();

  const prom = await prometheus;
  if (prom) await tellPrometheusStory(bin, prom);
  else if (onPath(PROMETHEUS) === undefined)
    out(
      `Prometheus is not installed, so the demo skips the part where it scrapes through dyshard (\`sudo apt-get install -y prometheus\` adds it).\n`,
    );

  const first = EXAMPLES[0]!.paths[0]!;
  const binRel = relative(process.cwd(), BIN_DYSHARD);
  const binShown = binRel && !binRel.startsWith("..") && !isAbsolute(binRel) ? binRel : BIN_DYSHARD;
  const upstreamFlags = gateways.map((g) => `--upstream ${g.url}`).join(" ");
  out(
    SMOKE
      ? "Commands to try (while the demo runs):"
      : `Try it (in another terminal; Ctrl-C here stops dyshard and the three Pushgateways${prom ? " and Prometheus" : ""}):`,
  );
  out();
  out("  # push a group through dyshard; it picks the Pushgateway");
  out(`  echo 'demo_try 1' | curl -sS -X PUT --data-binary @- ${dyshard}/metrics/job/try/instance/me`);
  out("  # where would a path go? (contacts nothing)");
  out(`  node ${binShown} route ${upstreamFlags} /metrics/job/try/instance/me ${first}`);
  out("  # look at a Pushgateway's groups");
  out(`  curl -sS ${gateways[0]!.url}/api/v1/metrics`);
  out("  # delete the group again");
  out(`  curl -sS -X DELETE ${dyshard}/metrics/job/try/instance/me`);
  out("  # the ring, and dyshard's own metrics");
  out(`  curl -sS ${dyshard}/-/dyshard/ring`);
  out(`  curl -sS ${dyshard}/metrics | grep '^dyshard_'`);
  if (prom) {
    out("  # ask Prometheus (its UI is at the same address)");
    out(`  curl -sS '${prom.url}/api/v1/query?query=demo_records_processed'`);
  }
  out();

  if (problems.length > 0) {
    out(`PROBLEMS (${problems.length}):`);
    for (const p of problems) out(`  - ${p}`);
    out();
  }

  if (SMOKE) {
    await stopEverything();
    out(problems.length === 0 ? "smoke: ok, everything stopped" : "smoke: FAILED, everything stopped");
    process.exit(problems.length === 0 ? 0 : 1);
  }

  out(`dyshard is running. Press Ctrl-C to stop it and the three Pushgateways${prom ? " and Prometheus" : ""}.`);
  waitingForCtrlC = true;
  await stopSignal;
  out();
  out(`stopping dyshard and the Pushgateways${prom ? " and Prometheus" : ""}...`);
  await stopEverything();
  out("stopped.");
  process.exit(0);
}

main().catch(async (err: unknown) => {
  process.stderr.write(`demo: ${(err as Error).message ?? String(err)}\n`);
  await stopEverything();
  process.exit(1);
});
