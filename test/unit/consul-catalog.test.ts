import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { membersFromHealth, type HealthEntry } from "../../src/discovery/consul/consul-catalog.js";
import { selfRegistration, upstreamRegistration } from "../../src/discovery/consul/consul-registrar.js";

const entry = (
  id: string,
  port: number,
  opts: { slot?: string; status?: string[]; address?: string; url?: string; node?: string } = {},
): HealthEntry => ({
  Node: { Node: opts.node ?? "n1", Address: "10.0.0.9" },
  Service: {
    ID: id,
    Service: "pushgateway",
    Address: opts.address ?? "127.0.0.1",
    Port: port,
    Meta: { ...(opts.slot !== undefined ? { dyshard_slot: opts.slot } : {}), ...(opts.url ? { dyshard_url: opts.url } : {}) },
  },
  Checks: [
    { CheckID: "serfHealth", Status: "passing" },
    ...(opts.status ?? ["passing"]).map((s, i) => ({ CheckID: `service:${id}:${i}`, Status: s })),
  ],
});

describe("membersFromHealth", () => {
  it("takes slots from Meta.dyshard_slot and health from all checks", () => {
    const { members, warnings } = membersFromHealth([
      entry("b", 2, { slot: "1", status: ["passing", "critical"] }),
      entry("a", 1, { slot: "0" }),
      entry("c", 3, { slot: "2", status: ["warning"] }),
    ]);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      members.map((m) => [m.slot, m.url, m.discoveryHealthy]),
      [
        [0, "http://127.0.0.1:1", true],
        [1, "http://127.0.0.1:2", false],
        [2, "http://127.0.0.1:3", false],
      ],
    );
    assert.match(members[1]!.discoveryReason!, /service:b:1 critical/);
  });

  it("places instances without a slot after the highest explicit one, by service ID, whatever the answer's order", () => {
    const a = membersFromHealth([entry("z", 9), entry("x", 7), entry("m", 5, { slot: "4" }), entry("y", 8)]);
    const b = membersFromHealth([entry("y", 8), entry("m", 5, { slot: "4" }), entry("x", 7), entry("z", 9)]);
    assert.deepEqual(a, b);
    assert.deepEqual(
      a.members.map((m) => [m.slot, m.url]),
      [
        [4, "http://127.0.0.1:5"],
        [5, "http://127.0.0.1:7"],
        [6, "http://127.0.0.1:8"],
        [7, "http://127.0.0.1:9"],
      ],
    );
  });

  it("prefers Meta.dyshard_url (path prefixes), falls back to the node address, and warns on bad or taken slots", () => {
    const { members, warnings } = membersFromHealth([
      entry("a", 1, { slot: "0", url: "http://pg:9091/pg" }),
      entry("b", 2, { slot: "0" }),
      entry("c", 3, { slot: "x", address: "" }),
    ]);
    assert.deepEqual(
      members.map((m) => [m.slot, m.url]),
      [
        [0, "http://pg:9091/pg"],
        [1, "http://127.0.0.1:2"],
        [2, "http://10.0.0.9:3"],
      ],
    );
    assert.equal(warnings.length, 2);
  });

  it("merges one instance registered on several agents: healthy only if every copy passes", () => {
    const { members } = membersFromHealth([
      entry("a", 1, { slot: "0", node: "n1" }),
      entry("a", 1, { slot: "0", node: "n2", status: ["critical"] }),
    ]);
    assert.equal(members.length, 1);
    assert.equal(members[0]!.discoveryHealthy, false);
  });

  it("gives an empty membership for an unknown service", () => {
    assert.deepEqual(membersFromHealth([]).members, []);
  });
});

describe("registrations", () => {
  const opts = {
    service: "pushgateway",
    tag: "ha",
    checkIntervalMs: 5000,
    checkTimeoutMs: 2000,
    deregisterCriticalAfterMs: 0,
    advertise: "dyshard-1:9091",
  };
  it("registers an upstream under a stable ID with its slot, URL and an HTTP check on /-/healthy", () => {
    const r = upstreamRegistration({ url: "http://pg-2:9091/pg", slot: 1, retired: false }, opts);
    assert.equal(r.id, "pushgateway-slot-1");
    assert.deepEqual([r.address, r.port, r.tags], ["pg-2", 9091, ["ha"]]);
    assert.deepEqual(r.meta, { dyshard_slot: "1", dyshard_url: "http://pg-2:9091/pg" });
    assert.equal(r.check.http, "http://pg-2:9091/pg/-/healthy");
    assert.equal(r.check.interval, "5s");
    assert.equal(r.check.deregistercriticalserviceafter, undefined);
    const reaped = upstreamRegistration(
      { url: "http://pg-2:9091", slot: 1, retired: false },
      { ...opts, deregisterCriticalAfterMs: 90_000 },
    );
    assert.equal(reaped.check.deregistercriticalserviceafter, "90s");
    assert.notEqual(reaped.check.name, r.check.name, "a changed check must be re-registered");
  });
  it("registers dyshard itself with a check on its /-/ready", () => {
    const r = selfRegistration(opts);
    assert.deepEqual(
      [r.id, r.name, r.address, r.port, r.check.http],
      ["dyshard-dyshard-1-9091", "dyshard", "dyshard-1", 9091, "http://dyshard-1:9091/-/ready"],
    );
  });
});
