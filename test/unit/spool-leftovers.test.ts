// A spool folder left by a dyshard that was killed (no clean-up) is removed by the next start;
// folders of live processes, and anything else in the directory, are kept.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { removeLeftovers } from "../../src/proxy/spool.js";

it("removes the spool folders of processes that are gone, and only those", async () => {
  const parent = mkdtempSync(join(tmpdir(), "dyshard-test-leftovers-"));
  try {
    const gone = spawnSync(process.execPath, ["-e", "0"]).pid as number; // exited: its pid is free
    const dead = join(parent, `dyshard-spool-${gone}-abc`);
    mkdirSync(dead);
    writeFileSync(join(dead, "1"), "half a body");
    const live = join(parent, `dyshard-spool-${process.ppid}-def`);
    mkdirSync(live);
    const other = join(parent, "something-else");
    mkdirSync(other);
    await removeLeftovers(parent);
    assert.equal(existsSync(dead), false, "the dead process's folder is gone");
    assert.equal(existsSync(live), true, "a live process's folder is kept");
    assert.equal(existsSync(other), true, "other folders are not touched");
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
