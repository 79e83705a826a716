import { Injectable, Logger } from '@nestjs/common';
import { contracts, type UsageEventInput } from '@gw/contracts';
import { DurablePublisher } from '@gw/transport';

/**
 * The usage events the ingress itself owes (cache hits, and failures no executor recorded). The request id is
 * the JetStream msgID, so a duplicate (say, the executor recorded it after all) is dropped.
 */
@Injectable()
export class UsagePublisher {
  private readonly logger = new Logger('Usage');
  constructor(private readonly publisher: DurablePublisher) {}

  publish(event: UsageEventInput): void {
    this.publisher.publish(contracts.billingUsage, event, event.requestId).catch((err: unknown) => {
      this.logger.error(`usage of ${event.requestId} not published: ${err instanceof Error ? err.message : String(err)}`);
    });
  }
}
