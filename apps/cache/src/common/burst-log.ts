export type BurstSink = { warn(message: string): void; log(message: string): void };

/**
 * Logs a dependency outage once per burst instead of once per request: the first failure is logged, the
 * following ones are counted (with a reminder every `repeatMs` while it lasts), and the recovery is logged with
 * the count. `success()` is one boolean test when nothing is failing, so it can sit on the hot path.
 */
export class BurstLog {
  private failing = false;
  private total = 0;
  private sinceLastLog = 0;
  private lastLoggedAt = 0;

  constructor(
    private readonly what: string,
    private readonly sink: BurstSink,
    private readonly repeatMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  get isFailing(): boolean {
    return this.failing;
  }

  failure(err: unknown): void {
    const t = this.now();
    this.total++;
    if (!this.failing) {
      this.failing = true;
      this.lastLoggedAt = t;
      this.sinceLastLog = 0;
      this.sink.warn(`${this.what} failing: ${reason(err)}`);
      return;
    }
    this.sinceLastLog++;
    if (t - this.lastLoggedAt >= this.repeatMs) {
      this.sink.warn(`${this.what} still failing: ${this.sinceLastLog} more failures in ${Math.round((t - this.lastLoggedAt) / 1000)} s (last: ${reason(err)})`);
      this.lastLoggedAt = t;
      this.sinceLastLog = 0;
    }
  }

  success(): void {
    if (!this.failing) return;
    this.sink.log(`${this.what} recovered after ${this.total} failures`);
    this.failing = false;
    this.total = 0;
    this.sinceLastLog = 0;
  }
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
