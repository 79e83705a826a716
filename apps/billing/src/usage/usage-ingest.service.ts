import { Inject, Injectable, Logger, Optional, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { contracts, type UsageEvent } from '@gw/contracts';
import { DurableBatchConsumer, Handles, NATS_CONNECTION, type DurableMessage, type DurableTarget } from '@gw/transport';
import type { BillingEnv } from '../config/env.js';
import { BILLING_ENV, USAGE_TARGET } from '../config/tokens.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { toUsageRow, UnstorableUsageError, type UsageRow } from './usage-sql.js';
import { UsageRepository } from './usage.repository.js';
import { SettlementService } from '../budgets/settlement.service.js';

export type UsageTargetOverride = Partial<DurableTarget> & { ackWaitMs?: number };

/**
 * Durable consumption of usage events: JetStream durable `billing-usage` → one INSERT ... ON CONFLICT DO NOTHING
 * per batch → ack after the commit. A database error naks the batch (redelivered with a growing delay), so an
 * outage of Postgres or of billing loses nothing and the request id keeps every record single.
 */
@Injectable()
export class UsageIngestService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('UsageIngest');
  private consumer: DurableBatchConsumer<typeof contracts.billingUsage> | null = null;
  private inserted = 0;
  private lastError: string | null = null;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(BILLING_ENV) private readonly env: BillingEnv,
    private readonly repo: UsageRepository,
    private readonly settlement: SettlementService,
    private readonly metrics: MetricsService,
    @Optional() @Inject(USAGE_TARGET) private readonly target: UsageTargetOverride | null = null,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { ackWaitMs, ...target } = this.target ?? {};
    this.consumer = new DurableBatchConsumer(this.nc, contracts.billingUsage, (batch) => this.handle(batch), {
      batchSize: this.env.USAGE_BATCH_SIZE,
      lingerMs: this.env.USAGE_LINGER_MS,
      concurrency: this.env.USAGE_CONCURRENCY,
      target,
      ...(ackWaitMs !== undefined ? { ackWaitMs } : {}),
      onPoison: (raw, err) =>
        this.logger.warn(`dropped a malformed usage event (seq ${raw.seq}): ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`),
      onError: (err) => {
        this.lastError = err instanceof Error ? err.message : String(err);
        this.logger.error(`usage batch not stored, will be redelivered: ${this.lastError}`);
      },
    });
    await this.consumer.start();
  }

  /** Stores one batch; events the table cannot hold are logged and settled on their own, the rest go in. */
  @Handles('billingUsage')
  async handle(batch: Array<DurableMessage<UsageEvent>>): Promise<void> {
    const rows: UsageRow[] = [];
    const stored: UsageEvent[] = [];
    for (const m of batch) {
      try {
        rows.push(toUsageRow(m.value));
        stored.push(m.value);
      } catch (err) {
        if (!(err instanceof UnstorableUsageError)) throw err;
        this.logger.warn(`dropped an unstorable usage event: ${err.message}`);
        m.raw.ack();
      }
    }
    const { inserted } = await this.repo.insertBatch(rows);
    this.inserted += inserted;
    this.metrics.usageStored.inc(inserted);
    await this.settlement.settle(stored); // budget reservations → real cost, after the commit
    this.lastError = null;
  }

  get stats(): { inserted: number; lastError: string | null } {
    return { inserted: this.inserted, lastError: this.lastError };
  }

  /** Before NATS drains: stop pulling and store what was already received. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }
}
