import type { AbortRecord, ReceivedRequest, SimulatorStats } from './types.js';

const KEEP_ABORTED = 1_000;

/** Counters of the simulator; the request log is a ring of the last `keep` requests. */
export class StatsCollector {
  private requests = 0;
  private byModel = new Map<string, number>();
  private inFlight = 0;
  private completed = 0;
  private aborted: AbortRecord[] = [];
  private abortedCount = 0;
  private faults = new Map<string, number>();
  private ring: ReceivedRequest[] = [];
  private next = 0;

  constructor(private readonly keep: number) {}

  received(req: ReceivedRequest, model: string | null): void {
    this.requests++;
    const key = model ?? '(none)';
    this.byModel.set(key, (this.byModel.get(key) ?? 0) + 1);
    if (this.keep <= 0) return;
    if (this.ring.length < this.keep) this.ring.push(req);
    else this.ring[this.next] = req;
    this.next = (this.next + 1) % this.keep;
  }

  opened(): void {
    this.inFlight++;
  }

  closed(outcome: 'completed' | 'aborted' | 'cut', record: AbortRecord): void {
    this.inFlight--;
    if (outcome === 'completed') this.completed++;
    else if (outcome === 'aborted') {
      this.abortedCount++;
      this.aborted.push(record);
      if (this.aborted.length > KEEP_ABORTED) this.aborted.shift();
    }
  }

  fault(kind: string): void {
    this.faults.set(kind, (this.faults.get(kind) ?? 0) + 1);
  }

  snapshot(): SimulatorStats {
    const ordered = this.ring.length < this.keep ? this.ring.slice() : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    return {
      requests: this.requests,
      requestsByModel: Object.fromEntries(this.byModel),
      inFlight: this.inFlight,
      completed: this.completed,
      aborted: this.aborted.slice(),
      abortedTotal: this.abortedCount,
      faults: Object.fromEntries(this.faults),
      lastRequests: ordered,
    };
  }

  /** Zeroes the counters; requests in flight stay counted as in flight. */
  reset(): void {
    this.requests = 0;
    this.byModel.clear();
    this.completed = 0;
    this.aborted = [];
    this.abortedCount = 0;
    this.faults.clear();
    this.ring = [];
    this.next = 0;
  }
}
