// Requests sent to the other side of --workers that wait for its reply: each ends with the reply,
// after its timeout, or when the other side is gone — never waits forever.
import { Codes } from "../../core/errors.js";
import { UnavailableError } from "../../core/unavailable-error.js";

/** No reply in time: the other process is hung or lost the message. */
export class ReplyTimeoutError extends UnavailableError {
  override readonly code: string = Codes.IPC_TIMEOUT;
  override readonly name: string = "ReplyTimeoutError";
}

interface Waiter {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class PendingReplies {
  private nextId = 0;
  private readonly waiting = new Map<number, Waiter>();

  get size(): number {
    return this.waiting.size;
  }

  /** Sends a request under a new id (`send` writes it); settles with its reply. */
  request<T>(timeoutMs: number, what: string, send: (id: number) => void): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new ReplyTimeoutError(`${what}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      send(id);
    });
  }

  resolve(id: number, value: unknown): void {
    this.take(id)?.resolve(value);
  }

  reject(id: number, err: Error): void {
    this.take(id)?.reject(err);
  }

  /** The other side is gone: every wait ends with `err`. */
  closeAll(err: Error): void {
    for (const id of [...this.waiting.keys()]) this.reject(id, err);
  }

  private take(id: number): Waiter | undefined {
    const w = this.waiting.get(id);
    if (!w) return undefined;
    clearTimeout(w.timer);
    this.waiting.delete(id);
    return w;
  }
}
