// Reads the files behind UpstreamAccess (--upstream-ca, --upstream-auth-file) once, at start.
// A file that cannot be used stops dyshard with a message naming the file (never its content).
import { createSecureContext } from "node:tls";
import type { Config } from "../config/schema.js";
import { badFile } from "../core/errors.js";
import { readSettingFile } from "../config/setting-file.js";
import { parseCredentials } from "./credentials.js";
import { UpstreamAccess, type UpstreamTls } from "./upstream-access.js";

export function loadUpstreamAccess(config: Pick<Config, "upstreamTls" | "upstreamAuthFile">): UpstreamAccess {
  const { caFile, insecureSkipVerify } = config.upstreamTls;
  const tls: UpstreamTls = { rejectUnauthorized: !insecureSkipVerify };
  if (caFile) tls.ca = readCa(caFile);
  const file = config.upstreamAuthFile;
  if (!file && !caFile && !insecureSkipVerify) return UpstreamAccess.DEFAULT;
  return new UpstreamAccess(
    tls,
    file ? parseCredentials(readSettingFile(file, "--upstream-auth-file"), `--upstream-auth-file ${file}`) : undefined,
  );
}

function readCa(file: string): Buffer {
  const pem = readSettingFile(file, "--upstream-ca");
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw badFile(`--upstream-ca ${file} holds no PEM certificate`);
  try {
    createSecureContext({ ca: pem });
  } catch (err) {
    throw badFile(`--upstream-ca ${file} is not a usable CA certificate: ${(err as Error).message}`);
  }
  return Buffer.from(pem);
}
