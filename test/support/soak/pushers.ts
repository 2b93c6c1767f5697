// The soak's clients: several pushers, each owning its share of the groups (so a group's pushes
// never overlap), each PUT carrying a value larger than any before it, every outcome recorded with
// its send and answer times. A failed push is followed by a 20 ms pause, as a client's retry would be.

export const JOB = "soak";
export const METRIC = "soak_value";

export interface PushRecord {
  group: number;
  value: number;
  startMs: number;
  endMs: number;
  /** The HTTP status, or 0 when the request itself failed (`text` says why). */
  status: number;
  text: string;
}

export const groupPath = (g: number): string => `/metrics/job/${JOB}/instance/g${g}`;

export class Pushers {
  readonly records: PushRecord[] = [];
  private value = 0;
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly url: string,
    private readonly groups: number,
    private readonly clients: number,
  ) {}

  start(): this {
    this.running = true;
    this.loops = Array.from({ length: this.clients }, (_, c) => this.loop(c));
    return this;
  }

  /** Stops after every pusher's push in flight is answered. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(client: number): Promise<void> {
    while (this.running) for (let g = client; g < this.groups && this.running; g += this.clients) await this.pushOnce(g);
  }

  private async pushOnce(group: number): Promise<void> {
    const value = ++this.value;
    const startMs = Date.now();
    let status = 0;
    let text = "";
    try {
      const res = await fetch(this.url + groupPath(group), {
        method: "PUT",
        body: `# TYPE ${METRIC} gauge\n${METRIC} ${value}\n`,
        signal: AbortSignal.timeout(10_000),
      });
      status = res.status;
      text = (await res.text()).trim();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      text = e.cause ? `${e.message}: ${e.cause.code ?? e.cause.message}` : e.message;
    }
    this.records.push({ group, value, startMs, endMs: Date.now(), status, text });
    if (status !== 200) await new Promise((r) => setTimeout(r, 20)); // as a client would, before trying again
  }
}
