// The status page (/-/dyshard/) in headless Chromium (Debian's, driven by playwright-core) over
// three real Pushgateways: it shows every instance up with its groups and the handover runs,
// flags a duplicate group, shows an instance down once it is killed (it refreshes itself), and its
// screenshot (test-artifacts/status-page.png) is not blank. /-/dyshard/status under --workers is
// the primary's (its health history and runs).
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import type { StatusView } from "../../src/http/status-view.js";
import type { App } from "../../src/runtime/single-process.js";
import { requireBinary } from "../support/binaries.js";
import { spawnReadyWorkers, startDyshard, type DyshardProcess } from "../support/dyshard.js";
import { decodePng, inkFigures } from "../support/png.js";
import { waitFor } from "../support/ports.js";
import { inParallel, push } from "../support/push.js";
import { startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";

const ARTIFACTS = fileURLToPath(new URL("../../../test-artifacts/", import.meta.url));

describe("the status page in Chromium", () => {
  let pgs: Pushgateway[];
  let app: App;
  let browser: Browser;
  let page: Page;
  before(async () => {
    pgs = await startPushgateways(3);
    app = await startDyshard(
      pgs.map((p) => p.url),
      { replicas: 2, rebalanceInterval: "0", rebalanceSettle: "100ms", groupTtl: "6h", groupTtlByJob: ["backup=2d"] },
    );
    browser = await chromium.launch({ executablePath: requireBinary("/usr/bin/chromium"), args: ["--no-sandbox"] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
    await stopAll(pgs ?? []);
  });

  const state = (url: string) => page.locator(`tr[data-upstream="${url}"] td[data-state]`);
  const card = (name: string) => page.locator(`[data-card="${name}"] .value`);

  it("shows every instance up, its groups, the handover run and a duplicate", async () => {
    await inParallel(
      Array.from({ length: 30 }, (_, i) => `/metrics/job/page/i/${i}`),
      8,
      (p) => push(app.url, p, "v 1\n"),
    );
    // The same group pushed straight to every instance: a duplicate the run reports (and then resolves).
    await Promise.all(pgs.map((p) => fetch(`${p.url}/metrics/job/dup/i/0`, { method: "PUT", body: "v 1\n" })));
    await fetch(`${app.url}/-/dyshard/rebalance?dry_run=1`, { method: "POST" });
    await page.goto(`${app.url}/-/dyshard/`);
    for (const pg of pgs)
      await state(pg.url)
        .getAttribute("data-state", { timeout: 10_000 })
        .then((s) => assert.equal(s, "healthy"));
    assert.equal(await page.locator("#healthy-count").textContent(), "3 of 3 healthy");
    assert.equal(await card("duplicates (last run)").textContent(), "1");
    assert.equal(await card("groups").textContent(), "31");
    const groups = await page.locator("#instances tbody tr td:nth-child(6)").allTextContents();
    assert.equal(
      groups.reduce((n, g) => n + Number(g), 0),
      33,
      `primaries per instance: ${groups.join(", ")} (30 groups once, the duplicate three times)`,
    );
    assert.equal(await page.locator("#runs tbody tr:first-child td:nth-child(3)").textContent(), "dry run");
    assert.match((await page.locator("#expiry").textContent()) ?? "", /default TTL 6h; by job: backup 2d/);
  });

  it("shows an instance down once it is killed, and saves a screenshot that is not blank", async () => {
    const victim = pgs[1] as Pushgateway;
    const t0 = performance.now();
    await victim.kill();
    await waitFor(
      "the page to show the instance down",
      async () => (await state(victim.url).getAttribute("data-state")) === "unhealthy",
      15_000,
      100,
    );
    const seenMs = performance.now() - t0;
    assert.equal(await page.locator("#healthy-count").textContent(), "2 of 3 healthy");
    assert.ok((await page.locator(`tr[data-upstream="${victim.url}"] .history span`).count()) >= 2, "its history shows up, then down");
    await fetch(`${app.url}/-/dyshard/rebalance`, { method: "POST" });
    const kind = page.locator("#runs tbody tr:first-child td:nth-child(3)");
    await waitFor("the run in the table", async () => (await kind.textContent()) === "run", 10_000, 100);
    mkdirSync(ARTIFACTS, { recursive: true });
    const png = await page.screenshot({ fullPage: true });
    writeFileSync(`${ARTIFACTS}status-page.png`, png);
    const { colours, ink } = inkFigures(decodePng(png));
    process.stdout.write(
      `# status page: instance down shown ${seenMs.toFixed(0)} ms after SIGKILL; screenshot ${png.length} bytes, ${colours} colours, ${(ink * 100).toFixed(1)}% ink\n`,
    );
    assert.ok(colours >= 8 && ink > 0.02, `a blank page has one colour and no ink: ${colours} colours, ${ink}`);
  });
});

describe("/-/dyshard/status under --workers", () => {
  let pgs: Pushgateway[];
  let d: DyshardProcess;
  before(async () => {
    pgs = await startPushgateways(2);
    d = await spawnReadyWorkers(
      pgs.map((p) => p.url),
      2,
    );
  });
  after(async () => {
    await d?.stop();
    await stopAll(pgs ?? []);
  });

  it("is the primary's: its health history and the runs it made, whichever worker answers", async () => {
    await fetch(`${d.url}/-/dyshard/rebalance`, { method: "POST" });
    await pgs[0]!.kill();
    await waitFor("the primary to see it down", async () => {
      const s = (await (await fetch(`${d.url}/-/dyshard/status`)).json()) as StatusView;
      return s.health[pgs[0]!.url]?.at(-1)?.healthy === false;
    });
    for (let i = 0; i < 6; i++) {
      const s = (await (await fetch(`${d.url}/-/dyshard/status`)).json()) as StatusView;
      assert.ok(s.handover.runs.length >= 1, "the primary's runs");
      assert.equal(s.ring.healthy_members, 1);
      assert.deepEqual(
        s.health[pgs[0]!.url]?.map((e) => e.healthy),
        [true, false],
      );
    }
  });
});
