import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Budgets, type BudgetAlert } from '@gw/budgets';
import { formatNanoUsd, type BudgetAlertEvent, type UsageEvent } from '@gw/contracts';
import { Redis } from 'ioredis';
import type { BillingEnv } from '../config/env.js';
import { BILLING_ENV } from '../config/tokens.js';
import { AlertPublisher } from './alert.publisher.js';

/**
 * Settles the ingress's budget reservations to the real cost once a batch of usage is durably stored: one Redis
 * pipeline per batch, idempotent per request id (a redelivered batch settles nothing twice). An error is thrown
 * to the ingest, which naks the batch: the rows are already in (ON CONFLICT DO NOTHING), the settlement is retried.
 */
@Injectable()
export class SettlementService implements OnApplicationShutdown {
  private readonly logger = new Logger('Settlement');
  private readonly redis: Redis;
  private readonly budgets: Budgets;

  constructor(
    @Inject(BILLING_ENV) env: BillingEnv,
    private readonly alerts: AlertPublisher,
  ) {
    this.redis = new Redis(env.REDIS_URL, {
      lazyConnect: false,
      enableAutoPipelining: false,
      maxRetriesPerRequest: 2,
      connectTimeout: 2_000,
    });
    this.budgets = new Budgets(this.redis, { prefix: env.REDIS_PREFIX });
  }

  async settle(events: readonly UsageEvent[]): Promise<void> {
    const fired = await this.budgets.settle(
      events.map((e) => ({
        requestId: e.requestId,
        costNanoUsd: BigInt(e.costNanoUsd),
        tokens: e.inputTokens + e.outputTokens,
      })),
    );
    for (const a of fired) {
      this.logger.log(
        `budget ${a.scope} ${a.id} (${a.periodId}) reached ${a.thresholdPct} %: ${formatNanoUsd(a.spentNanoUsd)} of ${formatNanoUsd(a.limitNanoUsd)} USD`,
      );
      this.alerts.publish(alertBody(a)); // durable: the worker delivers it to the webhook
    }
  }

  /** For /billing/v1/budgets: what the budget holds for requests not settled yet. */
  reserved(
    scope: 'key' | 'team',
    id: string,
    period: 'daily' | 'monthly' | 'total',
  ): Promise<{ spentNanoUsd: bigint; reservedNanoUsd: bigint }> {
    return this.budgets.read(scope, id, period);
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}

/** The alert as the webhook receives it (an external format, `contracts.budgetAlerts`). */
export function alertBody(a: BudgetAlert): BudgetAlertEvent {
  return {
    type: 'budget.threshold',
    scope: a.scope,
    id: a.id,
    period: a.periodId,
    thresholdPct: a.thresholdPct,
    spentUsd: formatNanoUsd(a.spentNanoUsd),
    budgetUsd: formatNanoUsd(a.limitNanoUsd),
  };
}
