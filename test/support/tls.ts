// Certificates made in the test: a CA of its own (openssl, in a temporary folder) that signs
// server certificates for 127.0.0.1, and Pushgateways started with a --web.config.file of TLS and
// basic auth (the Prometheus exporter-toolkit's format, the password as a bcrypt hash by htpasswd).
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireBinary } from "./binaries.js";
import { Pushgateway } from "./pushgateway.js";

export interface Issued {
  certFile: string;
  keyFile: string;
  /** The certificate's SHA-256 fingerprint, as X509Certificate prints it. */
  fingerprint: string;
}

export class TestCa {
  readonly certFile: string;
  private readonly keyFile: string;
  private serial = 0;

  private constructor(
    readonly dir: string,
    readonly name: string,
  ) {
    this.certFile = join(dir, `${name}.crt`);
    this.keyFile = join(dir, `${name}.key`);
  }

  /** A new CA in `dir` (default: a new temporary folder). */
  static create(name = "ca", dir = mkdtempSync(join(tmpdir(), "dyshard-tls-"))): TestCa {
    const ca = new TestCa(dir, name);
    openssl(
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
      [
        ["-keyout", ca.keyFile],
        ["-out", ca.certFile],
        ["-days", "2"],
        ["-subj", `/CN=dyshard test ${name}`],
      ],
    );
    return ca;
  }

  get pem(): string {
    return readFileSync(this.certFile, "utf8");
  }

  /** A server certificate for `ip` (its IP SAN) signed by this CA, written as `<file>.crt` and `<file>.key`. */
  issue(file: string, ip = "127.0.0.1"): Issued {
    const base = join(this.dir, file);
    const ext = `${base}.ext`;
    writeFileSync(ext, `subjectAltName=IP:${ip}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
    openssl(
      ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
      [
        ["-keyout", `${base}.key`],
        ["-out", `${base}.csr`],
        ["-subj", `/CN=${ip}`],
      ],
    );
    openssl(
      ["x509", "-req"],
      [
        ["-in", `${base}.csr`],
        ["-CA", this.certFile],
        ["-CAkey", this.keyFile],
        ["-set_serial", String(1000 + ++this.serial)],
        ["-out", `${base}.crt`],
        ["-days", "2"],
        ["-extfile", ext],
      ],
    );
    return { certFile: `${base}.crt`, keyFile: `${base}.key`, fingerprint: fingerprintOf(readFileSync(`${base}.crt`, "utf8")) };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

function openssl(head: string[], pairs: string[][]): void {
  execFileSync(requireBinary("openssl"), [...head, ...pairs.flat()], { stdio: "pipe" });
}

/** A bcrypt hash of `password` (cost 5: the Pushgateway checks it on every request). */
export function bcryptHash(username: string, password: string): string {
  const line = execFileSync(requireBinary("htpasswd"), ["-nbBC", "5", username, password], { encoding: "utf8" });
  return line.trim().slice(username.length + 1);
}

/** A Pushgateway serving HTTPS with a certificate of `ca`, asking for basic auth when `auth` is given. */
export async function securePushgateway(ca: TestCa, name: string, auth?: { username: string; password: string }): Promise<Pushgateway> {
  const issued = ca.issue(name);
  const config = join(ca.dir, `${name}-web.yml`);
  const users = auth ? `basic_auth_users:\n  ${auth.username}: '${bcryptHash(auth.username, auth.password)}'\n` : "";
  writeFileSync(config, `tls_server_config:\n  cert_file: ${issued.certFile}\n  key_file: ${issued.keyFile}\n${users}`);
  return Pushgateway.start([`--web.config.file=${config}`], undefined, { ca: ca.pem, ...(auth ? { auth } : {}) });
}
