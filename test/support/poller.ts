// Watches every Pushgateway while groups move: how many groups were seen on two instances at once.
import type { Pushgateway } from "./pushgateway.js";

export class DuplicatePoller {
  polls = 0;
  pollsWithDuplicates = 0;
  maxDuplicates = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly pgs: Pushgateway[],
    private readonly job: string,
  ) {}

  start(everyMs = 50): this {
    this.loop = (async () => {
      while (!this.stopped) {
        const all = await Promise.all(this.pgs.map((p) => p.groups().catch(() => [])));
        const seen = new Map<string, number>();
        for (const groups of all)
          for (const g of groups)
            if (g.labels.job === this.job)
              seen.set(
                JSON.stringify(Object.entries(g.labels).sort()),
                (seen.get(JSON.stringify(Object.entries(g.labels).sort())) ?? 0) + 1,
              );
        const dups = [...seen.values()].filter((n) => n > 1).length;
        this.polls++;
        if (dups > 0) this.pollsWithDuplicates++;
        this.maxDuplicates = Math.max(this.maxDuplicates, dups);
        await new Promise((r) => setTimeout(r, everyMs));
      }
    })();
    return this;
  }

  async stop(): Promise<this> {
    this.stopped = true;
    await this.loop;
    return this;
  }
}
