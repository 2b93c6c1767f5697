// No request through dyshard can break a Pushgateway (docs/facts/pushgateway.md, "Requests that
// break a Pushgateway 1.5.1 for good" and "What a group is"): every known poison is pushed through
// dyshard, and afterwards every instance still accepts pushes (plain and job@base64 ones, whose
// route an invalid job@base64 would hang) and serves /metrics. A group's empty-label twin
// (`{job=x,instance=""}` beside `{job=x}`) is forwarded as the group itself.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { App } from "../../src/runtime/single-process.js";
import { startDyshard } from "../support/dyshard.js";
import { push } from "../support/push.js";
import { startPushgateways, stopAll, type Pushgateway } from "../support/pushgateway.js";

const b64 = (s: string) => Buffer.from(s).toString("base64url");

describe("no push through dyshard poisons a Pushgateway", () => {
  let pgs: Pushgateway[];
  let app: App;
  before(async () => {
    pgs = await startPushgateways(3);
    app = await startDyshard(pgs.map((p) => p.url));
  });
  after(async () => {
    await app?.stop();
    await stopAll(pgs ?? []);
  });

  it("empty-label twins are forwarded as their group: one group stored, every push answered 2xx", async () => {
    const twins: [string, string][] = [
      ["PUT", "/metrics/job/dup"],
      ["PUT", "/metrics/job/dup/instance@base64/="],
      ["PUT", "/metrics/job/dup/instance/"],
      ["POST", "/metrics/job/dup/x@base64/="],
      ["PUT", "/metrics/job/dup2/a/1"],
      ["PUT", "/metrics/job/dup2/a/1/instance@base64/="],
      ["POST", "/metrics/job/dup2/a/1/b/"],
    ];
    for (const [method, path] of twins) {
      const res = await push(app.url, path, "m 1\n", method);
      assert.equal(res.status, 200, `${method} ${path}: ${res.status} ${res.text}`);
    }
    const held = (await Promise.all(pgs.map((p) => p.groups()))).flat().filter((g) => g.labels.job?.startsWith("dup"));
    assert.deepEqual(
      held.map((g) => g.labels).sort((a, b) => String(a.job).localeCompare(String(b.job))),
      [{ job: "dup" }, { job: "dup2", a: "1" }],
    );
    assert.equal((await push(app.url, "/metrics/job/dup/instance@base64/=", "", "DELETE")).status, 202);
    assert.equal(
      (await Promise.all(pgs.map((p) => p.groups()))).flat().filter((g) => g.labels.job === "dup").length,
      0,
      "the twin's DELETE deletes the group",
    );
  });

  it("the pushes that break an instance for good are refused by dyshard itself", async () => {
    const refused = [
      "/metrics/job@base64/fz4+", // invalid job@base64: its route would hang on the instance
      "/metrics/job/p/b@base64/_-_-", // decodes to bytes that are not UTF-8
      "/metrics/job/p/a/%FF",
    ];
    for (const path of refused) {
      for (const method of ["PUT", "POST"]) {
        const res = await push(app.url, path, "m 1\n", method);
        assert.equal(res.status, 400, `${method} ${path}: ${res.status} ${res.text}`);
      }
    }
  });

  it("afterwards every instance accepts pushes, job@base64 ones included, and serves /metrics", async () => {
    for (const pg of pgs) {
      const metrics = await fetch(`${pg.url}/metrics`, { signal: AbortSignal.timeout(5000) });
      assert.equal(metrics.status, 200, `${pg.url}/metrics: ${metrics.status} ${(await metrics.text()).slice(0, 300)}`);
      for (const path of ["/metrics/job/after/instance/i", `/metrics/job@base64/${b64("after")}/instance/i`]) {
        for (const method of ["PUT", "POST"]) {
          const res = await fetch(pg.url + path, { method, body: "m 2\n", signal: AbortSignal.timeout(5000) });
          assert.equal(res.status, 200, `${method} ${pg.url}${path}: ${res.status}`);
        }
      }
    }
  });
});
