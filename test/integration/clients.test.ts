// Real, unmodified Pushgateway clients through dyshard, against three real Pushgateways:
// prom-client's Pushgateway class, Python's prometheus_client, curl following 307s, and one group
// pushed in many spellings. Every group must land on exactly one instance: the one the ring names.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { Gauge, Pushgateway as PromClientPushgateway, Registry } from "prom-client";
import { parsePushPath, routingKey, type GroupingKey } from "../../src/pushgateway/grouping-key.js";
import { loadHash64 } from "../../src/routing/hash.js";
import { Ring, type SlotState } from "../../src/routing/ring.js";
import type { App } from "../../src/runtime/single-process.js";
import { requireBinary, requirePythonClient } from "../support/binaries.js";
import { startDyshard } from "../support/dyshard.js";
import { startPushgateways, stopAll, type Pushgateway, type PushgatewayGroup } from "../support/pushgateway.js";

// Async on purpose: dyshard runs in this process, so a synchronous child would block its event loop.
const run = promisify(execFile);

interface RingJson {
  healthy_members: number;
  upstreams: string[];
  slots: { slot: number; upstream: string | null; state: SlotState }[];
}

/** The upstream that owns `group` according to dyshard's published ring (GET /-/dyshard/ring). */
async function ringOwner(dyshardUrl: string, group: GroupingKey): Promise<string> {
  const res = await fetch(`${dyshardUrl}/-/dyshard/ring`);
  assert.equal(res.status, 200);
  const view = (await res.json()) as RingJson;
  assert.equal(view.healthy_members, 3, `all three Pushgateways should be healthy: ${JSON.stringify(view)}`);
  const ring = new Ring(
    view.slots.map((s) => s.state),
    await loadHash64(),
  );
  const slot = ring.owner(routingKey(group));
  assert.notEqual(slot, undefined, "the ring names no owner");
  const upstream = view.slots[slot!]?.upstream;
  assert.ok(upstream, `slot ${slot} has no upstream`);
  return upstream;
}

const groupLabels = (g: GroupingKey): Record<string, string> => ({ ...g.labels, job: g.job });
const sameLabels = (a: Record<string, string>, b: Record<string, string>) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/** Every instance holding a group with exactly these labels, with the group as stored. */
async function holders(pgs: Pushgateway[], group: GroupingKey): Promise<{ pg: Pushgateway; stored: PushgatewayGroup }[]> {
  const want = groupLabels(group);
  const found: { pg: Pushgateway; stored: PushgatewayGroup }[] = [];
  for (const pg of pgs) for (const stored of await pg.groups()) if (sameLabels(stored.labels, want)) found.push({ pg, stored });
  return found;
}

/** Groups of `job` on every instance (any labels). */
async function groupsOfJob(pgs: Pushgateway[], job: string): Promise<{ pg: Pushgateway; stored: PushgatewayGroup }[]> {
  const found: { pg: Pushgateway; stored: PushgatewayGroup }[] = [];
  for (const pg of pgs) for (const stored of await pg.groups()) if (stored.labels.job === job) found.push({ pg, stored });
  return found;
}

function metricValue(stored: PushgatewayGroup, name: string): string | undefined {
  const family = stored[name] as { metrics?: { value: string }[] } | undefined;
  return family?.metrics?.[0]?.value;
}

/** Asserts `group` is on exactly one instance, the ring's owner, with these metric values; returns that instance. */
async function assertOnOwnerOnly(
  pgs: Pushgateway[],
  dyshardUrl: string,
  group: GroupingKey,
  values: Record<string, string | undefined>,
): Promise<Pushgateway> {
  const owner = await ringOwner(dyshardUrl, group);
  const found = await holders(pgs, group);
  assert.deepEqual(
    found.map((f) => f.pg.url),
    [owner],
    `group ${routingKey(group)} should be on exactly its owner ${owner}, is on ${JSON.stringify(found.map((f) => f.pg.url))}`,
  );
  const stored = found[0]!.stored;
  for (const [name, value] of Object.entries(values))
    assert.equal(metricValue(stored, name), value, `${name} in ${routingKey(group)} on ${owner}`);
  return found[0]!.pg;
}

async function assertNowhere(pgs: Pushgateway[], group: GroupingKey): Promise<void> {
  const found = await holders(pgs, group);
  assert.deepEqual(
    found.map((f) => f.pg.url),
    [],
    `group ${routingKey(group)} should be deleted everywhere`,
  );
}

/** A push with a raw request target, so the bytes of the path are exactly the ones written here. */
function rawRequest(
  baseUrl: string,
  method: string,
  target: string,
  body = "",
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: hostname,
        port,
        method,
        path: target,
        headers: { "content-type": "text/plain; version=0.0.4", "content-length": Buffer.byteLength(body) },
        agent: false,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${target} timed out`)));
    req.end(body);
  });
}

function group(job: string, labels: Record<string, string> = {}): GroupingKey {
  return { job, labels };
}

describe("real clients through dyshard, three real Pushgateways", () => {
  let pgs: Pushgateway[] = [];
  let proxy: App | undefined;
  let redirect: App | undefined;
  let scratch: string;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "dyshard-clients-"));
    pgs = await startPushgateways(3);
    const urls = pgs.map((p) => p.url);
    proxy = await startDyshard(urls);
    redirect = await startDyshard(urls, { mode: "redirect" });
  });

  after(async () => {
    await proxy?.stop();
    await redirect?.stop();
    await stopAll(pgs);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("prom-client's Pushgateway: push (PUT), pushAdd (POST) and delete land on the ring's owner only", async () => {
    const url = proxy!.url;
    const first = new Registry();
    new Gauge({ name: "promclient_first", help: "first gauge", registers: [first] }).set(42);
    const second = new Registry();
    new Gauge({ name: "promclient_second", help: "second gauge", registers: [second] }).set(7);
    const gwFirst = new PromClientPushgateway(url, {}, first);
    const gwSecond = new PromClientPushgateway(url, {}, second);

    // Several groups, so that the routing has something to spread (and a value needing %-encoding).
    const instances = Array.from({ length: 9 }, (_, i) => `node-${i}`);
    const grouping = (instance: string) => ({ instance, zone: "eu west" });
    const key = (instance: string) => group("promclient", grouping(instance));
    const used = new Set<string>();

    for (const instance of instances) {
      await gwFirst.push({ jobName: "promclient", groupings: grouping(instance) });
      const pg = await assertOnOwnerOnly(pgs, url, key(instance), { promclient_first: "42", promclient_second: undefined });
      used.add(pg.url);
    }
    assert.ok(used.size > 1, `nine groups should not all land on one instance (${[...used].join(", ")})`);

    // pushAdd (POST) keeps the other metrics of the group, on the same instance.
    for (const instance of instances) {
      await gwSecond.pushAdd({ jobName: "promclient", groupings: grouping(instance) });
      await assertOnOwnerOnly(pgs, url, key(instance), { promclient_first: "42", promclient_second: "7" });
    }

    // push (PUT) replaces the whole group.
    await gwSecond.push({ jobName: "promclient", groupings: grouping("node-0") });
    await assertOnOwnerOnly(pgs, url, key("node-0"), { promclient_first: undefined, promclient_second: "7" });

    for (const instance of instances) {
      await gwFirst.delete({ jobName: "promclient", groupings: grouping(instance) });
      await assertNowhere(pgs, key(instance));
    }
    assert.deepEqual(await groupsOfJob(pgs, "promclient"), []);
  });

  it("Python prometheus_client: push_to_gateway, pushadd_to_gateway and delete_from_gateway, @base64 values included", async () => {
    const py = requirePythonClient();
    const script = [
      "import json, sys",
      "from prometheus_client import CollectorRegistry, Gauge, push_to_gateway, pushadd_to_gateway, delete_from_gateway",
      "spec = json.loads(sys.argv[1])",
      "registry = CollectorRegistry()",
      "for name, value in spec.get('metrics', {}).items():",
      "    Gauge(name, 'set by the dyshard client test', registry=registry).set(value)",
      "if spec['op'] == 'delete':",
      "    delete_from_gateway(spec['gateway'], job=spec['job'], grouping_key=spec['grouping'], timeout=10)",
      "else:",
      "    push = {'push': push_to_gateway, 'pushadd': pushadd_to_gateway}[spec['op']]",
      "    push(spec['gateway'], job=spec['job'], registry=registry, grouping_key=spec['grouping'], timeout=10)",
    ].join("\n");
    const python = async (spec: {
      op: "push" | "pushadd" | "delete";
      job: string;
      grouping: Record<string, string>;
      metrics?: Record<string, number>;
    }) => {
      try {
        await run(py, ["-c", script, JSON.stringify({ gateway: proxy!.url, ...spec })], { timeout: 30_000 });
      } catch (err) {
        const e = err as { stderr?: string; message: string };
        assert.fail(`python ${spec.op} of job ${spec.job} failed: ${e.stderr || e.message}`);
      }
    };

    // `host/1` and `/api/v1` contain a slash: the client sends them as `@base64`; so is the job `py/batch`.
    const cases = [
      { job: "py_job", grouping: { instance: "host/1", team: "infra" } },
      { job: "py_job", grouping: { instance: "host/2", path: "/api/v1" } },
      { job: "py/batch", grouping: {} as Record<string, string> },
      { job: "py/batch", grouping: { instance: "x" } },
    ];
    for (const c of cases) {
      const g = group(c.job, c.grouping);
      await python({ op: "push", ...c, metrics: { py_first: 1.5 } });
      await assertOnOwnerOnly(pgs, proxy!.url, g, { py_first: "1.5", py_second: undefined });
      await python({ op: "pushadd", ...c, metrics: { py_second: 2 } });
      await assertOnOwnerOnly(pgs, proxy!.url, g, { py_first: "1.5", py_second: "2" });
      await python({ op: "push", ...c, metrics: { py_second: 3 } });
      await assertOnOwnerOnly(pgs, proxy!.url, g, { py_first: undefined, py_second: "3" });
    }
    for (const c of cases) {
      await python({ op: "delete", ...c });
      await assertNowhere(pgs, group(c.job, c.grouping));
    }
    assert.deepEqual([...(await groupsOfJob(pgs, "py_job")), ...(await groupsOfJob(pgs, "py/batch"))], []);
  });

  it("redirect mode: the 307's Location is the owner's URL plus the raw target, byte for byte", async () => {
    const targets = [
      "/metrics/job/curl%3Fjob/instance/a%25b%20c?x=1",
      "/metrics/job/curl_plain/instance/one?x=1&y=%2F",
      "/metrics/job@base64/Y3VybC9iNjQ/instance@base64/aG9zdC8x",
      "/metrics/job/curl%20space/",
    ];
    for (const target of targets) {
      const parsed = parsePushPath(target);
      assert.equal(parsed.kind, "group", `${target} should parse as a push`);
      const owner = await ringOwner(redirect!.url, (parsed as { group: GroupingKey }).group);
      for (const method of ["PUT", "POST", "DELETE"]) {
        const res = await rawRequest(redirect!.url, method, target, method === "DELETE" ? "" : "redirect_probe 1\n");
        assert.equal(res.status, 307, `${method} ${target}: ${res.body}`);
        assert.equal(res.headers.location, owner + target, `${method} ${target}`);
      }
    }
    // Nothing was pushed anywhere by answering with redirects.
    assert.deepEqual(await groupsOfJob(pgs, "curl?job"), []);
  });

  it("redirect mode: curl -L -X PUT follows the 307 with method and body, and the owner stores the decoded group", async () => {
    const curl = requireBinary("curl");
    const body = join(scratch, "push.txt");
    const curlTo = async (args: string[]) => {
      try {
        const { stdout } = await run(
          curl,
          [
            "-sS",
            "-L",
            "--max-redirs",
            "3",
            "--max-time",
            "20",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{num_redirects} %{url_effective}",
            ...args,
          ],
          { timeout: 30_000 },
        );
        const [code, redirects, effective] = stdout.trim().split(" ");
        return { code: Number(code), redirects: Number(redirects), effective: effective ?? "" };
      } catch (err) {
        const e = err as { stderr?: string; message: string };
        return assert.fail(`curl ${args.join(" ")} failed: ${e.stderr || e.message}`);
      }
    };

    const cases: { target: string; group: GroupingKey }[] = [
      // Pushgateway decodes the path: `%3F` is a `?` in the job, `%25` a `%` and `%20` a space in the value.
      { target: "/metrics/job/curl%3Fjob/instance/a%25b%20c?x=1", group: group("curl?job", { instance: "a%b c" }) },
      { target: "/metrics/job/curl_plain/instance/one?x=1", group: group("curl_plain", { instance: "one" }) },
      { target: "/metrics/job@base64/Y3VybC9iNjQ/instance@base64/aG9zdC8x", group: group("curl/b64", { instance: "host/1" }) },
    ];
    for (const [i, c] of cases.entries()) {
      writeFileSync(body, `curl_value ${i + 10}\n`);
      const owner = await ringOwner(redirect!.url, c.group);
      const put = await curlTo(["-X", "PUT", "--data-binary", `@${body}`, redirect!.url + c.target]);
      assert.deepEqual(put, { code: 200, redirects: 1, effective: owner + c.target }, `PUT ${c.target}`);
      await assertOnOwnerOnly(pgs, redirect!.url, c.group, { curl_value: String(i + 10) });

      writeFileSync(body, `curl_other ${i}\n`);
      const post = await curlTo(["-X", "POST", "--data-binary", `@${body}`, redirect!.url + c.target]);
      assert.equal(post.code, 200, `POST ${c.target}`);
      await assertOnOwnerOnly(pgs, redirect!.url, c.group, { curl_value: String(i + 10), curl_other: String(i) });
    }
    for (const c of cases) {
      const del = await curlTo(["-X", "DELETE", redirect!.url + c.target]);
      assert.equal(del.code, 202, `DELETE ${c.target}`);
      await assertNowhere(pgs, c.group);
    }
  });

  it("one group pushed in many spellings is ONE group on ONE instance", async () => {
    // base64url: "i-1" = aS0x, "eu" = ZXU, "spelled" = c3BlbGxlZA, "spelled_job" = c3BlbGxlZF9qb2I
    const labelled = group("spelled", { instance: "i-1", zone: "eu" });
    const labelledSpellings = [
      "/metrics/job/spelled/instance/i-1/zone/eu",
      "/metrics/job/spelled/zone/eu/instance/i-1", // label order swapped
      "/metrics/job/spelled/instance@base64/aS0x/zone/eu", // a value as @base64
      "/metrics/job/spelled/instance@base64/aS0x=/zone@base64/ZXU==", // padded base64
      "/metrics/job@base64/c3BlbGxlZA/zone/eu/instance/i-1", // the job as @base64
      "/metrics/job@base64/c3BlbGxlZA==/zone@base64/ZXU/instance@base64/aS0x",
      "/metrics/job/spell%65d/instance/i%2D1/zone/%65u", // needless %-escapes
      "/metrics/job/spelled/instance/i-1/zone/eu?with=query",
    ];
    const jobOnly = group("spelled_job");
    const jobOnlySpellings = [
      "/metrics/job/spelled_job",
      "/metrics/job/spelled_job/", // trailing slash
      "/metrics/job@base64/c3BlbGxlZF9qb2I",
      "/metrics/job@base64/c3BlbGxlZF9qb2I/",
    ];

    for (const [g, spellings] of [
      [labelled, labelledSpellings],
      [jobOnly, jobOnlySpellings],
    ] as const) {
      for (const [i, target] of spellings.entries()) {
        const method = i % 2 === 0 ? "PUT" : "POST";
        const res = await rawRequest(proxy!.url, method, target, `spelled_value ${i}\n`);
        assert.equal(res.status, 200, `${method} ${target}: ${res.body}`);
        const found = await groupsOfJob(pgs, g.job);
        assert.equal(
          found.length,
          1,
          `after ${target}: ${g.job} is ${found.length} groups: ${JSON.stringify(found.map((f) => [f.pg.url, f.stored.labels]))}`,
        );
        await assertOnOwnerOnly(pgs, proxy!.url, g, { spelled_value: String(i) });
      }
    }

    // One delete, in yet another spelling, removes it everywhere.
    assert.equal((await rawRequest(proxy!.url, "DELETE", "/metrics/job@base64/c3BlbGxlZA/instance/i-1/zone@base64/ZXU")).status, 202);
    assert.equal((await rawRequest(proxy!.url, "DELETE", "/metrics/job/spelled_job/")).status, 202);
    assert.deepEqual([...(await groupsOfJob(pgs, "spelled")), ...(await groupsOfJob(pgs, "spelled_job"))], []);
  });
});
