// Tests use the real binaries; a missing one fails with the line that installs it (nothing is skipped).
import { execFileSync } from "node:child_process";

const INSTALL: Record<string, string> = {
  "prometheus-pushgateway": "apt-get install -y prometheus-pushgateway",
  promtool: "apt-get install -y prometheus",
  prometheus: "apt-get install -y prometheus",
  curl: "apt-get install -y curl",
  openssl: "apt-get install -y openssl",
  go: "apt-get install -y golang-go golang-github-prometheus-client-golang-dev",
  "/usr/bin/python3": "apt-get install -y python3 python3-prometheus-client",
  "/usr/bin/chromium": "apt-get install -y chromium",
  htpasswd: "apt-get install -y apache2-utils",
};

export function requireBinary(name: string): string {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "pipe" });
    return name;
  } catch {
    throw new Error(`${name} is missing: run \`${INSTALL[name] ?? `install ${name}`}\``);
  }
}

/** Debian's python3 (the one python3-prometheus-client installs into). */
export function requirePythonClient(): string {
  const py = requireBinary("/usr/bin/python3");
  try {
    execFileSync(py, ["-c", "import prometheus_client"], { stdio: "pipe" });
  } catch {
    throw new Error("python prometheus_client is missing: run `apt-get install -y python3-prometheus-client`");
  }
  return py;
}
