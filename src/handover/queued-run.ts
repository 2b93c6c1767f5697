// A run promised to the callers that arrived during another run; started when that one ends.
import type { RunReport } from "./run-report.js";

export class QueuedRun {
  readonly promise: Promise<RunReport>;
  resolve!: (run: Promise<RunReport>) => void;
  reject!: (err: Error) => void;

  constructor() {
    this.promise = new Promise<RunReport>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}
