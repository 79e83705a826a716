import { Logger } from '@nestjs/common';
import { contracts, type UsageEventInput } from '@gw/contracts';
import { ensureStream, type DurablePublisher } from '@gw/transport';
import type { NatsConnection } from '@nats-io/transport-node';

/**
 * Publishes usage events to JetStream (msgID = request id, so a duplicate is dropped) without holding up the
 * reply: `record` returns at once. DurablePublisher retries with backoff; a publish that still fails is logged
 * with the whole event (so it can be replayed from the logs) rather than lost silently. Shutdown waits for
 * publishes in flight.
 */
export class UsageRecorder {
  private readonly logger = new Logger('Usage');
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly publisher: DurablePublisher,
  ) {}

  async ensureStream(): Promise<void> {
    await ensureStream(this.nc, contracts.billingUsage);
  }

  /** Nest lifecycle: the usage stream exists before the first request is taken. */
  async onApplicationBootstrap(): Promise<void> {
    await this.ensureStream();
  }

  /** Nest lifecycle: before NATS drains, let the publishes in flight finish. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  record(event: UsageEventInput): void {
    const p = this.publisher
      .publish(contracts.billingUsage, event, event.requestId)
      .catch((err: unknown) => {
        this.logger.error(`usage publish failed after retries: ${(err as Error).message}; event=${JSON.stringify(event)}`);
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  get pending(): number {
    return this.inFlight.size;
  }

  async flush(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }
}
