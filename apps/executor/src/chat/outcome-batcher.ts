import type { TargetOutcomeBatch, TargetOutcomeEvent } from '@gw/contracts';

/** How long a success waits for company before it goes to the routers. */
export const OUTCOME_FLUSH_MS = 20;
/** A batch never grows past this many outcomes (it goes at once). */
export const OUTCOME_MAX_BATCH = 500;

/**
 * Gathers attempt outcomes for routing.evt.target-outcomes.v1. A success or a neutral outcome waits up to
 * OUTCOME_FLUSH_MS, so at any rate the routers get one message (and one wake-up) per flush instead of one per
 * request; a failure goes at once with everything that waited before it (order kept), so a circuit opens as soon
 * as without batching. `close()` sends what is left (called by Nest before shutdown).
 */
export class OutcomeBatcher {
  private queue: TargetOutcomeEvent[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly send: (batch: TargetOutcomeBatch) => void,
    private readonly flushMs = OUTCOME_FLUSH_MS,
    private readonly maxBatch = OUTCOME_MAX_BATCH,
  ) {}

  push(e: TargetOutcomeEvent): void {
    this.queue.push(e);
    if (e.result === 'failed' || this.queue.length >= this.maxBatch) this.flush();
    else if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.queue.length === 0) return;
    const outcomes = this.queue;
    this.queue = [];
    this.send({ outcomes });
  }

  close(): void {
    this.flush();
  }

  /** Nest: before the NATS connection drains, the outcomes still waiting go out. */
  beforeApplicationShutdown(): void {
    this.close();
  }
}
