import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
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
 *
 * Budget alerts are at least once (ADR 0018): the settlement reports every threshold crossed and not yet marked
 * published, the alert is published to JetStream and marked published after JetStream's ack. A publish that
 * failed, or a billing that died in between, leaves it unmarked: the next settlement on its budget reports it
 * again, and every BUDGET_ALERT_RESEND_MS a sweep publishes those crossed longer ago than that (a budget at 100 %
 * refuses requests, so nothing may settle on it again).
 */
@Injectable()
export class SettlementService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Settlement');
  private readonly redis: Redis;
  private readonly budgets: Budgets;
  private readonly resendMs: number;
  private resendTimer: NodeJS.Timeout | null = null;

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
    this.resendMs = env.BUDGET_ALERT_RESEND_MS;
  }

  onApplicationBootstrap(): void {
    this.resendTimer = setInterval(() => void this.resendPending(), this.resendMs);
    this.resendTimer.unref();
    void this.resendPending(); // what a billing that died left unpublished
  }

  async settle(events: readonly UsageEvent[]): Promise<void> {
    const fired = await this.budgets.settle(
      events.map((e) => ({
        requestId: e.admissionId ?? e.requestId, // the id its holds were taken under (ADR 0019)
        costNanoUsd: BigInt(e.costNanoUsd),
        tokens: e.inputTokens + e.outputTokens,
      })),
    );
    for (const a of fired) this.publish(a);
  }

  /** Publishes the alerts crossed more than BUDGET_ALERT_RESEND_MS ago and still not marked published. */
  async resendPending(): Promise<number> {
    try {
      const pending = await this.budgets.pendingAlerts(this.resendMs);
      let started = 0;
      for (const a of pending) if (this.publish(a)) started++;
      if (started > 0) this.logger.warn(`${started} budget alert(s) crossed earlier and not published: publishing them now`);
      return started;
    } catch (err) {
      this.logger.error(`budget alerts resend sweep failed: ${err instanceof Error ? err.message : String(err)}`);
      return 0;
    }
  }

  /** Durable: the worker delivers it to the webhook; marked published once JetStream stored it. */
  private publish(a: BudgetAlert): boolean {
    const started = this.alerts.publish(alertBody(a), () => this.budgets.alertPublished(a));
    if (started) {
      this.logger.log(
        `budget ${a.scope} ${a.id} (${a.periodId}) reached ${a.thresholdPct} %: ${formatNanoUsd(a.spentNanoUsd)} of ${formatNanoUsd(a.limitNanoUsd)} USD`,
      );
    }
    return started;
  }

  /** For /billing/v1/budgets: what the budget holds for requests not settled yet. */
  reserved(
    scope: 'key' | 'team',
    id: string,
    period: 'daily' | 'monthly' | 'total',
  ): Promise<{ spentNanoUsd: bigint; reservedNanoUsd: bigint }> {
    return this.budgets.read(scope, id, period);
  }

  /** The alerts being published are marked in Redis once stored: they go out (≤ 15 s) before Redis closes. */
  async onApplicationShutdown(): Promise<void> {
    if (this.resendTimer) clearInterval(this.resendTimer);
    await this.alerts.drain();
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
