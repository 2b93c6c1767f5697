// Where push bodies over --retry-body wait until complete, so that a slow client never holds an
// upstream connection while its body trickles in, and a large push can be sent again to the next
// owner (as nginx's proxy_request_buffering spills to a temporary file). Each process spools in
// a folder of its own (mode 0700, files 0600) under --spool-dir; the files of all pushes together
// stay under --max-spool, past which bodies stream as they arrive.
import { createReadStream, createWriteStream, type ReadStream, type WriteStream } from "node:fs";
import { mkdtemp, readdir, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { Budget } from "./budget.js";

export interface SpoolFile {
  path: string;
  writer: WriteStream;
}

const PREFIX = "dyshard-spool-";

/** Folders that dyshards killed before they could clean up (SIGKILL, a crash) left: theirs, by pid, once it is gone. */
export async function removeLeftovers(parent: string): Promise<void> {
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(/^dyshard-spool-(\d+)-/.exec(name)?.[1]);
    if (pid && pid !== process.pid && !alive(pid)) await rm(join(parent, name), { recursive: true, force: true }).catch(() => {});
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM"; // someone else's process: alive
  }
}

export class Spool {
  private next = 0;

  private constructor(
    /** The folder of this process; "" when there is none (spooling off). */
    private readonly dir: string,
    private readonly budget: Budget,
  ) {}

  /** A spool of `limit` bytes in a new folder under `parent`; without one (0, or it cannot be made), bodies stream. */
  static async open(parent: string, limit: number, log: Logger): Promise<Spool> {
    if (limit === 0) return new Spool("", new Budget(0));
    try {
      await removeLeftovers(parent);
      return new Spool(await mkdtemp(join(parent, `${PREFIX}${process.pid}-`)), new Budget(limit));
    } catch (err) {
      log.warn(
        { spool_dir: parent, err: (err as Error).message },
        "cannot spool push bodies there: bodies over --retry-body will stream and not be retried",
      );
      return new Spool("", new Budget(0));
    }
  }

  /** Takes room for `n` more bytes on disk; false when the spool is full. */
  reserve(n: number): boolean {
    return this.budget.take(n);
  }

  give(n: number): void {
    this.budget.give(n);
  }

  /** A new file of this spool, open for writing, only by this user. */
  create(): SpoolFile {
    const path = join(this.dir, `${++this.next}.body`);
    return { path, writer: createWriteStream(path, { flags: "wx", mode: 0o600 }) };
  }

  /** Reads a spooled body (once per attempt). */
  read(path: string): ReadStream {
    return createReadStream(path, { highWaterMark: 64 * 1024 });
  }

  /** Deletes a file, once its writer is closed: one still opening would create it again after the unlink. */
  discard({ path, writer }: SpoolFile): void {
    const remove = () => void unlink(path).catch(() => {}); // gone already, or the folder went with close()
    if (writer.closed) return remove();
    writer.once("close", remove);
    writer.destroy();
  }

  /** Removes this process's folder and what is still in it. */
  async close(): Promise<void> {
    if (this.dir !== "") await rm(this.dir, { recursive: true, force: true });
  }
}
