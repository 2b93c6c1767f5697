// dyshard serving HTTPS (--tls-cert, --tls-key) with certificates made in the test: a client that
// trusts the test CA pushes; SIGHUP after the files were replaced gives new connections the new
// certificate (its fingerprint and serial checked on the wire), in one process and under
// --workers 2 (the primary relays it); a broken file on reload keeps the old certificate.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import tls from "node:tls";
import { after, before, describe, it } from "node:test";
import { Agent, request } from "undici";
import type { App } from "../../src/runtime/single-process.js";
import { CLI, spawnDyshard, startDyshard, type DyshardProcess } from "../support/dyshard.js";
import { waitFor } from "../support/ports.js";
import { Pushgateway } from "../support/pushgateway.js";
import { TestCa, type Issued } from "../support/tls.js";

/** The certificate a new connection to `url` is served: its SHA-256 fingerprint and serial (verified against `ca`). */
function servedCertificate(url: string, ca: string): Promise<{ fingerprint: string; serial: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: u.hostname, port: Number(u.port), ca }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve({ fingerprint: cert.fingerprint256, serial: cert.serialNumber });
    });
    socket.once("error", reject);
  });
}

/** A push through `url` by a client that trusts `ca` only. */
async function pushTrusting(url: string, ca: string, path: string, body: string): Promise<number> {
  const agent = new Agent({ connect: { ca } });
  try {
    const res = await request(url + path, { method: "PUT", body, dispatcher: agent });
    await res.body.dump();
    return res.statusCode;
  } finally {
    await agent.close();
  }
}

/** Log lines of the process that hold `text`. */
const lines = (d: DyshardProcess, text: string) =>
  d
    .output()
    .split("\n")
    .filter((l) => l.includes(text)).length;

/** Writes `issued` over the files dyshard serves from (as a certificate renewal does). */
function replaceServed(served: { certFile: string; keyFile: string }, issued: Issued): void {
  copyFileSync(issued.keyFile, served.keyFile);
  copyFileSync(issued.certFile, served.certFile);
}

describe("serving HTTPS", () => {
  let ca: TestCa;
  let pg: Pushgateway;
  let first: Issued;
  let second: Issued;
  let served: { certFile: string; keyFile: string };
  before(async () => {
    ca = TestCa.create();
    first = ca.issue("dyshard-1");
    second = ca.issue("dyshard-2");
    served = { certFile: join(ca.dir, "served.crt"), keyFile: join(ca.dir, "served.key") };
    replaceServed(served, first);
    pg = await Pushgateway.start();
  });
  after(async () => {
    await pg?.kill();
    ca?.remove();
  });

  describe("one process", () => {
    let app: App & { logs: string[] };
    before(async () => {
      app = await startDyshard([pg.url], { tlsCert: served.certFile, tlsKey: served.keyFile });
    });
    after(async () => {
      replaceServed(served, first);
      await app?.stop();
    });

    it("serves HTTPS with the configured certificate, and a client trusting the CA pushes", async () => {
      assert.match(app.url, /^https:\/\//);
      assert.equal((await servedCertificate(app.url, ca.pem)).fingerprint, first.fingerprint);
      assert.equal(await pushTrusting(app.url, ca.pem, "/metrics/job/tls_push/instance/a", "tls_value 7\n"), 200);
      const stored = (await pg.groups()).find((g) => g.labels.job === "tls_push");
      assert.equal(stored?.labels.instance, "a");
      // A client that does not trust the CA is refused by its own TLS check.
      await assert.rejects(request(app.url + "/-/healthy"), /certificate/);
    });

    it("reload: new connections get the new certificate, an open one keeps working; a broken file keeps the old one", async () => {
      const keepAlive = new Agent({ connect: { ca: ca.pem } });
      const before = await request(app.url + "/-/healthy", { dispatcher: keepAlive });
      await before.body.dump();
      replaceServed(served, second);
      assert.equal(app.reload(), true);
      const now = await servedCertificate(app.url, ca.pem);
      assert.equal(now.fingerprint, second.fingerprint);
      assert.equal(now.serial, "03EA"); // the second certificate the test CA issued (serial 1002)
      // The connection opened before the reload is still served.
      const again = await request(app.url + "/metrics/job/tls_keep", { method: "PUT", body: "k 1\n", dispatcher: keepAlive });
      await again.body.dump();
      assert.equal(again.statusCode, 200);
      await keepAlive.close();

      writeFileSync(served.certFile, "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n");
      assert.equal(app.reload(), false);
      assert.equal((await servedCertificate(app.url, ca.pem)).fingerprint, second.fingerprint);
      assert.ok(app.logs.some((l) => l.includes("TLS certificate not reloaded") && l.includes("--tls-cert")));
      assert.equal(await pushTrusting(app.url, ca.pem, "/metrics/job/tls_after_bad_reload", "b 1\n"), 200);
    });
  });

  it("refuses to start with a key that does not match the certificate, or half a pair (exit 2, says why)", () => {
    const mismatched = spawnSync(
      process.execPath,
      [CLI, "serve", "--upstream", pg.url, "--tls-cert", first.certFile, "--tls-key", second.keyFile],
      {
        encoding: "utf8",
        timeout: 10_000,
      },
    );
    assert.equal(mismatched.status, 2, mismatched.stderr);
    assert.match(mismatched.stderr, /--tls-cert .* with --tls-key .* cannot be used: .*key values mismatch/);
    const half = spawnSync(process.execPath, [CLI, "serve", "--upstream", pg.url, "--tls-cert", first.certFile], {
      encoding: "utf8",
      timeout: 10_000,
    });
    assert.equal(half.status, 2);
    assert.match(half.stderr, /both a certificate \(--tls-cert\) and its key \(--tls-key\)/);
  });

  describe("--workers 2: SIGHUP to the primary reaches every worker", () => {
    let d: DyshardProcess;
    before(async () => {
      replaceServed(served, first);
      d = await spawnDyshard(["--workers", "2", "--upstream", pg.url, "--tls-cert", served.certFile, "--tls-key", served.keyFile]);
      await waitFor("both workers serving", async () => lines(d, "worker serving") === 2);
      assert.equal(await pushTrusting(d.url, ca.pem, "/metrics/job/tls_workers", "w 1\n"), 200);
    });
    after(async () => {
      await d?.stop("SIGKILL");
    });

    it("new connections, whichever worker takes them, get the new certificate; a broken file keeps it", async () => {
      const reloaded = () => lines(d, "TLS certificate reloaded");
      const refused = () => lines(d, "TLS certificate not reloaded");
      replaceServed(served, second);
      d.proc.kill("SIGHUP");
      await waitFor("both workers reloaded", async () => reloaded() === 2);
      const seen = await Promise.all(Array.from({ length: 8 }, () => servedCertificate(d.url, ca.pem)));
      assert.deepEqual(new Set(seen.map((c) => c.fingerprint)), new Set([second.fingerprint]));

      writeFileSync(served.keyFile, "garbage\n");
      d.proc.kill("SIGHUP");
      await waitFor("both workers refused the broken pair", async () => refused() === 2);
      const after = await Promise.all(Array.from({ length: 8 }, () => servedCertificate(d.url, ca.pem)));
      assert.deepEqual(new Set(after.map((c) => c.fingerprint)), new Set([second.fingerprint]));
      assert.equal(await pushTrusting(d.url, ca.pem, "/metrics/job/tls_workers_after", "w 2\n"), 200);
      assert.equal(d.proc.exitCode, null, "still running");
      process.stdout.write(
        `# --workers 2: SIGHUP reloaded ${reloaded()} workers; a broken key was refused by ${refused()}, old certificate kept\n`,
      );
    });
  });
});
