// Real Pushgateways and a spool folder of the test's own, made before a suite and removed after it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { startPushgateways, stopAll, type Pushgateway } from "./pushgateway.js";

export function pushgatewaysAndSpool(n: number): { pgs: Pushgateway[]; spoolDir: string } {
  const fixture = { pgs: [] as Pushgateway[], spoolDir: "" };
  before(async () => {
    fixture.pgs = await startPushgateways(n);
    fixture.spoolDir = mkdtempSync(join(tmpdir(), "dyshard-test-spool-"));
  });
  after(async () => {
    await stopAll(fixture.pgs);
    if (fixture.spoolDir) rmSync(fixture.spoolDir, { recursive: true, force: true });
  });
  return fixture;
}
