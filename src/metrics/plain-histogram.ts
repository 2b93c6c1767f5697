/**
 * An unlabelled histogram counted in plain numbers on the push path and read by prom-client when
 * scraped (its own Histogram validates and hashes labels on every observe). It is what prom-client
 * asks of a metric: name, help, type, aggregator (summed over --workers) and get().
 */
export class PlainHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: number[],
  ) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    if (i < bounds.length) (this.counts[i] as number)++;
    this.sum += value;
    this.count++;
  }

  get() {
    let cumulative = 0;
    const bucket = `${this.name}_bucket`;
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = this.bounds.map((le, i) => ({
      metricName: bucket,
      labels: { le },
      value: (cumulative += this.counts[i] as number),
    }));
    values.push(
      { metricName: bucket, labels: { le: "+Inf" }, value: this.count },
      { metricName: `${this.name}_sum`, labels: {}, value: this.sum },
      { metricName: `${this.name}_count`, labels: {}, value: this.count },
    );
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
