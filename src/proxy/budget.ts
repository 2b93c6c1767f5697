// Bytes that all pushes in progress may take together, in memory or on disk.
export class Budget {
  private used = 0;
  constructor(readonly limit: number) {}

  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used -= n;
  }
}
