// Keep-alive connections to one upstream origin: a bounded number, reused last-in first-out (the
// warmest socket first), and requests queued when all are busy. A connection's listeners are set
// once, when it opens, and hand each event to whichever exchange it carries at the time.
import net from "node:net";
import tls from "node:tls";

/** What a connection carries: one request and its answer at a time. */
export interface Carried {
  onData(chunk: Buffer): void;
  /** The connection is gone (`error` when it failed rather than closed). */
  onClose(error: Error | undefined): void;
}

export class Connection {
  carrying: Carried | undefined;
  /** Requests this connection has carried, the current one included. */
  uses = 0;
  idleSince = 0;
  private error: Error | undefined;

  constructor(
    readonly socket: net.Socket,
    private readonly pool: Pool,
  ) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      if (this.carrying) this.carrying.onData(chunk);
      else socket.destroy(); // nothing was asked: an idle connection is not to talk
    });
    socket.on("error", (err) => (this.error = err));
    socket.on("close", () => {
      const carried = this.carrying;
      this.carrying = undefined;
      pool.closed(this);
      carried?.onClose(this.error);
    });
  }
}

export interface PoolOptions {
  connections: number;
  idleTimeoutMs: number;
  /** For https origins: the CAs to trust and whether to verify (src/upstream/upstream-access.ts). */
  tls?: tls.ConnectionOptions;
}

export class Pool {
  readonly host: string;
  private readonly port: number;
  private readonly secure: boolean;
  private readonly idle: Connection[] = [];
  private readonly waiting: ((c: Connection) => void)[] = [];
  private open = 0;

  constructor(
    origin: URL,
    private readonly opts: PoolOptions,
  ) {
    this.secure = origin.protocol === "https:";
    this.host = origin.host;
    this.port = Number(origin.port) || (this.secure ? 443 : 80);
  }

  /** Hands over an idle connection, a new one, or (all busy) the next one released. */
  acquire(then: (c: Connection) => void): void {
    const c = this.idle.pop();
    if (c !== undefined) return then(c);
    if (this.open < this.opts.connections) return then(this.connect());
    this.waiting.push(then);
  }

  /** A new connection, past the bound: a request retried after its reused connection failed. */
  connect(): Connection {
    this.open++;
    const hostname = this.host.startsWith("[") ? this.host.slice(1, this.host.indexOf("]")) : (this.host.split(":")[0] as string);
    // Writes before the connection is up are buffered by the socket itself.
    const socket = this.secure
      ? tls.connect({ ...this.opts.tls, host: hostname, port: this.port, servername: net.isIP(hostname) ? undefined : hostname })
      : net.connect(this.port, hostname);
    return new Connection(socket, this);
  }

  /** The exchange is over: the connection goes to the next waiter, back to the idle list, or away. */
  release(c: Connection, reusable: boolean): void {
    c.carrying = undefined;
    if (!reusable || c.socket.destroyed) {
      c.socket.destroy();
      return;
    }
    const next = this.waiting.shift();
    if (next !== undefined) return next(c);
    c.idleSince = performance.now();
    this.idle.push(c);
  }

  /** Called by a connection once its socket closed. */
  closed(c: Connection): void {
    this.open--;
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    const next = this.waiting.shift();
    if (next !== undefined) next(this.connect());
  }

  /** Closes connections idle for longer than the idle timeout. */
  sweep(now: number): void {
    for (const c of this.idle) if (now - c.idleSince > this.opts.idleTimeoutMs) c.socket.destroy();
  }

  destroy(): void {
    for (const c of this.idle) c.socket.destroy();
  }
}
