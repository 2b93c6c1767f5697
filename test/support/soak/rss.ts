// dyshard's resident set through a soak: sampled every few hundred milliseconds; the start is taken
// after the warm-up (the heap, pools and buffers grown to the load), the end after the handover settled.

export class RssSampler {
  startBytes = NaN;
  peakBytes = 0;
  endBytes = NaN;
  lastBytes = NaN;
  private timer: NodeJS.Timeout | undefined;
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly read: () => Promise<number>) {}

  start(everyMs: number): this {
    this.timer = setInterval(() => {
      this.pending = this.read()
        .then((b) => {
          this.lastBytes = b;
          this.peakBytes = Math.max(this.peakBytes, b);
        })
        .catch(() => undefined);
    }, everyMs);
    return this;
  }

  /** The start figure: the peak so far, so the heap's growth to the load's size is not counted as growth. */
  markStart(): void {
    this.startBytes = this.peakBytes;
  }

  markEnd(bytes: number): void {
    this.endBytes = bytes;
    this.peakBytes = Math.max(this.peakBytes, bytes);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.pending;
  }
}
