// bcrypt off the event loop. bcryptjs compares on the thread that calls it, in slices of up to
// 100 ms (its MAX_EXECUTION_TIME), so on the main thread a few checks of new or wrong credentials
// would stall every push; one worker thread per process (bcrypt-thread.ts) does them in turn.
// At most MAX_WAITING wait: beyond that a check is refused as unavailable (503), not queued
// without end, so a flood of wrong passwords costs one core and a bounded queue.
import { Worker } from "node:worker_threads";
import { UnavailableError } from "../core/unavailable-error.js";

export const MAX_WAITING = 256;

interface Waiting {
  resolve(ok: boolean): void;
  reject(err: Error): void;
}

export class BcryptPool {
  private thread: Worker | undefined;
  private next = 0;
  private readonly waiting = new Map<number, Waiting>();

  compare(password: string, hash: string): Promise<boolean> {
    if (this.waiting.size >= MAX_WAITING)
      return Promise.reject(new UnavailableError("too many credential checks waiting; try again in a moment"));
    const thread = this.start();
    const id = this.next++;
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) thread.ref(); // a check waits: its answer must come
      this.waiting.set(id, { resolve, reject });
      thread.postMessage({ id, password, hash });
    });
  }

  private start(): Worker {
    if (this.thread) return this.thread;
    const thread = new Worker(new URL("./bcrypt-thread.js", import.meta.url));
    thread.on("message", ({ id, ok }: { id: number; ok: boolean }) => {
      this.waiting.get(id)?.resolve(ok);
      this.waiting.delete(id);
      if (this.waiting.size === 0) thread.unref();
    });
    thread.on("error", (err) => this.lost(err));
    thread.on("exit", (code) => this.lost(new Error(`the bcrypt thread exited (${code})`)));
    // Idle, it must not keep the process alive (unref'd after the listeners: a message listener refs it).
    thread.unref();
    return (this.thread = thread);
  }

  /** The thread is gone: its checks fail (a 500), the next check starts a new one. */
  private lost(err: Error): void {
    this.thread = undefined;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}

/** One thread per process, shared by every guard. */
export const bcryptPool = new BcryptPool();
