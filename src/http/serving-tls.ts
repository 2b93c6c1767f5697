// HTTPS for the listener (--tls-cert, --tls-key). Both files are read at start (a pair that cannot
// be used stops dyshard) and again on SIGHUP: new connections then get the new certificate, open
// ones keep theirs, and the listener stays up. A pair that cannot be used on reload is logged and
// the one in use kept.
import { X509Certificate } from "node:crypto";
import { createSecureContext, type Server } from "node:tls";
import type { Config } from "../config/schema.js";
import { readSettingFile } from "../config/setting-file.js";
import { badFile, errorText } from "../core/errors.js";
import type { Logger } from "../core/logger.js";

export interface CertPair {
  cert: string;
  key: string;
}

export class ServingTls {
  private constructor(
    private readonly files: Config["tls"],
    /** The pair in use. */
    public pair: CertPair,
  ) {}

  /** Reads the pair; undefined when dyshard serves plain HTTP. */
  static load(files: Config["tls"]): ServingTls | undefined {
    return files.certFile ? new ServingTls(files, readPair(files)) : undefined;
  }

  /** Reads both files again and gives new connections the new pair; keeps the old one if the new cannot be used. */
  reload(server: Server, log: Logger): boolean {
    let pair: CertPair;
    try {
      pair = readPair(this.files);
      server.setSecureContext(pair);
    } catch (err) {
      log.error({ err: errorText(err), in_use: describe(this.pair.cert) }, "TLS certificate not reloaded: keeping the one in use");
      return false;
    }
    this.pair = pair;
    log.info({ certificate: describe(pair.cert) }, "TLS certificate reloaded: new connections get it");
    return true;
  }
}

function readPair({ certFile, keyFile }: Config["tls"]): CertPair {
  const pair = { cert: readSettingFile(certFile, "--tls-cert"), key: readSettingFile(keyFile, "--tls-key") };
  try {
    createSecureContext(pair); // the same check the server makes, before the server sees the pair
  } catch (err) {
    throw badFile(`--tls-cert ${certFile} with --tls-key ${keyFile} cannot be used: ${(err as Error).message}`);
  }
  return pair;
}

/** What identifies a certificate in the logs (nothing secret: a certificate is public). */
export function describe(pem: string): Record<string, string> {
  try {
    const c = new X509Certificate(pem);
    return { subject: c.subject, serial: c.serialNumber, not_after: c.validTo, sha256: c.fingerprint256 };
  } catch {
    return {};
  }
}
