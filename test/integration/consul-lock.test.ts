// ConsulLock against the Consul emulator: one holder at a time, re-acquire, release, a dead
// holder's session expiring, a Consul outage. Short session TTLs (the emulator allows them) and
// expiry at 1×TTL keep it quick; real Consul takes up to 2×TTL.
import assert from "node:assert/strict";
import net, { type Socket } from "node:net";
import { Writable } from "node:stream";
import { after, afterEach, before, describe, it } from "node:test";
import { createConsulClient, type ConsulClient } from "../../src/discovery/consul/consul-client.js";
import { ConsulLock, LOCK_DELAY_MS } from "../../src/handover/consul-lock.js";
import { createLogger } from "../../src/core/logger.js";
import { ConsulEmulator } from "../support/consul-emulator.js";
import { waitFor } from "../support/ports.js";

const TTL_MS = 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP relay to the emulator; close() cuts it, so a lock behind it is a holder that died. */
async function startRelay(targetPort: number): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      if (!server.listening) return;
      const closed = new Promise((r) => server.close(r));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

describe("ConsulLock", () => {
  let emu: ConsulEmulator;
  let keyN = 0;
  let key: string;
  const clients: ConsulClient[] = [];
  const locks: ConsulLock[] = [];
  const relays: { close: () => Promise<void> }[] = [];
  const logLines: { level: number; msg: string }[] = [];
  const log = createLogger(
    "debug",
    new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split("\n")) if (line) logLines.push(JSON.parse(line) as { level: number; msg: string });
        done();
      },
    }),
  );

  /** A lock with its own Consul client (as on another dyshard). */
  const newLock = async (name: string, address = emu.url) => {
    const consul = await createConsulClient({ address, token: "", datacenter: "" });
    clients.push(consul);
    const lock = new ConsulLock(consul, { key, ttlMs: TTL_MS, name }, log);
    locks.push(lock);
    return lock;
  };
  const sessionOf = (name: string) => emu.sessions().filter((s) => s.Name === name);

  before(async () => {
    emu = await ConsulEmulator.start({ allowShortSessionTtl: true, sessionTtlMultiplier: 1 });
  });
  // Each test gets its own key, and leaves no session or client behind.
  const nextKey = () => (key = `dyshard/handover-${++keyN}`);
  afterEach(async () => {
    await emu.resume();
    await Promise.all(locks.splice(0).map((l) => l.release()));
    for (const c of clients.splice(0)) c.destroy();
    await Promise.all(relays.splice(0).map((r) => r.close())); // also when a test failed before closing it
    nextKey();
  });
  nextKey();
  after(async () => {
    await emu?.stop();
  });

  it("lets one of two dyshards hold the key; the holder re-acquires; holder() names it", async () => {
    const a = await newLock("dyshard handover a:9091");
    const b = await newLock("dyshard handover b:9091");
    const results = await Promise.all([a.tryAcquire(), b.tryAcquire()]);
    assert.equal(results.filter(Boolean).length, 1, `exactly one wins: ${results}`);
    const [holder, other] = results[0] ? [a, b] : [b, a];
    const holderName = results[0] ? "dyshard handover a:9091" : "dyshard handover b:9091";

    assert.equal(holder.held, true);
    assert.equal(other.held, false);
    assert.equal(await holder.tryAcquire(), true, "re-acquiring with the same session succeeds");
    assert.equal(await other.tryAcquire(), false);

    const [session] = sessionOf(holderName);
    assert.ok(session, "the holder has a session");
    assert.equal(session.Behavior, "release");
    assert.equal(session.TTL, "1.5s");
    assert.equal(session.LockDelayMs, LOCK_DELAY_MS);
    const entry = emu.kvEntry(key);
    assert.equal(entry?.Session, session.ID);
    assert.equal(entry?.LockIndex, 1, "a re-acquire is not a new lock");
    assert.equal(JSON.parse(entry!.Value!).name, holderName);
    assert.equal(JSON.parse((await other.holder())!).name, holderName);
    assert.equal(emu.sessions().length, 2, "one session each, reused across attempts");
  });

  it("after release the other acquires at once; release destroys the session and is safe to repeat", async () => {
    const a = await newLock("a");
    const b = await newLock("b");
    assert.equal(await a.tryAcquire(), true);
    assert.equal(await b.tryAcquire(), false);
    const [sa] = sessionOf("a");
    assert.ok(sa);

    await a.release();
    assert.equal(a.held, false);
    assert.deepEqual(sessionOf("a"), [], "release destroys the session");
    assert.equal(emu.kvEntry(key)?.Session, undefined);
    assert.equal(await a.holder(), undefined);
    // An explicit release frees the key without Consul's lock-delay (that follows invalidations only).
    assert.equal(await b.tryAcquire(), true);
    assert.equal(b.held, true);

    await a.release(); // not held: a no-op, and it must not touch b's lock
    await (await newLock("never acquired")).release();
    assert.equal(emu.kvEntry(key)?.Session, sessionOf("b")[0]?.ID);
    assert.equal(await b.tryAcquire(), true);

    // A released lock can be taken again with a new session.
    await b.release();
    assert.equal(await a.tryAcquire(), true);
    assert.notEqual(sessionOf("a")[0]?.ID, sa.ID);
  });

  it("keeps the lock by renewing; when the holder dies its session expires and the other takes over within TTL + lock-delay", async () => {
    const relay = await startRelay(emu.port);
    relays.push(relay);
    const a = await newLock("a (dies)", relay.url);
    const b = await newLock("b");
    assert.equal(await a.tryAcquire(), true);
    await sleep(2 * TTL_MS); // renewals keep the session past its TTL
    assert.equal(a.held, true);
    assert.equal(sessionOf("a (dies)").length, 1);
    assert.equal(await b.tryAcquire(), false);

    await relay.close(); // a can no longer reach Consul: no renewal, no release
    const t0 = Date.now();
    let aHeldWhenBWon: boolean | undefined;
    await waitFor(
      "b to take over",
      async () => {
        const aHeld = a.held;
        if (!(await b.tryAcquire())) return false;
        aHeldWhenBWon = aHeld;
        return true;
      },
      TTL_MS + LOCK_DELAY_MS + 1000,
    );
    const took = Date.now() - t0;
    assert.ok(took >= LOCK_DELAY_MS - 100, `not before the lock-delay: ${took}ms`);
    assert.equal(aHeldWhenBWon, false, "the dead holder stopped believing it held the lock before b got it");
    assert.deepEqual(sessionOf("a (dies)"), [], "a's session expired");
    assert.equal(await a.tryAcquire(), false, "an unreachable Consul gives false, not a throw");
  });

  it("forgets a session Consul expired and starts a new one", async () => {
    const a = await newLock("a");
    const b = await newLock("b");
    assert.equal(await a.tryAcquire(), true);
    const old = sessionOf("a")[0]!.ID;
    emu.expireSession(old);
    assert.equal(await a.tryAcquire(), false, "the expired session cannot acquire");
    assert.equal(a.held, false);
    // The lock-delay applies to everyone, then a new session of a's wins.
    assert.equal(await b.tryAcquire(), false);
    await waitFor("a to acquire again", () => a.tryAcquire(), LOCK_DELAY_MS + 1000);
    const [fresh] = sessionOf("a");
    assert.ok(fresh && fresh.ID !== old, "a new session");
    assert.equal(emu.kvEntry(key)?.Session, fresh.ID);

    // A renewal that finds the session gone drops `held` without any tryAcquire, well before the
    // TTL since the last confirmation (the acquire just now) would.
    assert.equal(await a.tryAcquire(), true);
    emu.expireSession(fresh.ID);
    await waitFor("a's renewal to notice", async () => !a.held, TTL_MS / 2 + 300, 10);
  });

  it("with Consul down, tryAcquire and holder() give false/undefined and log a warning; after resume it works again", async () => {
    const a = await newLock("a");
    const b = await newLock("b");
    assert.equal(await a.tryAcquire(), true);
    const warnsBefore = logLines.filter((l) => l.level === 40).length;

    await emu.pause();
    assert.equal(await a.tryAcquire(), false);
    assert.equal(a.held, false);
    assert.equal(await b.tryAcquire(), false, "no session can be created either");
    assert.equal(await (await newLock("c")).tryAcquire(), false);
    assert.equal(await b.holder(), undefined);
    const warns = logLines.filter((l) => l.level === 40).slice(warnsBefore);
    assert.ok(
      warns.some((l) => l.msg === "Could not acquire the Consul lock"),
      JSON.stringify(warns),
    );

    await emu.resume();
    // a's session survives a short outage; if it expired, a new one waits out the lock-delay.
    await waitFor("a to hold the lock again", () => a.tryAcquire(), TTL_MS + LOCK_DELAY_MS + 1000);
    assert.equal(a.held, true);
    assert.equal(await b.tryAcquire(), false);
    assert.equal(JSON.parse((await b.holder())!).name, "a");
  });
});
