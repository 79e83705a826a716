import { Inject, Injectable, Logger, Optional, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { budgetAlertId, contracts, type BudgetAlertEvent } from '@gw/contracts';
import { Handles, NATS_CONNECTION, type DurableTarget } from '@gw/transport';
import type { WorkerEnv } from '../config/env.js';
import { ALERT_TARGET, WORKER_ENV } from '../config/tokens.js';
import { AlertWebhook } from './alert.webhook.js';
import { OneByOneConsumer } from './one-by-one.consumer.js';

export type AlertTargetOverride = Partial<DurableTarget> & { ackWaitMs?: number };

export type AlertStats = {
  /** POSTed and answered 2xx */
  delivered: number;
  /** failed deliveries, each handed back to JetStream with a delay */
  retried: number;
  /** acknowledged without a call: no BUDGET_ALERT_WEBHOOK_URL */
  dropped: number;
  /** acknowledged and logged: not a budget alert */
  poison: number;
};

/**
 * Delivers budget alerts to BUDGET_ALERT_WEBHOOK_URL: JetStream durable `worker-budget-alerts` → one POST per
 * alert → ack on a 2xx answer; a failure (non-2xx, connection error, BUDGET_ALERT_TIMEOUT_MS) naks that alert
 * alone with a growing delay (BUDGET_ALERT_BACKOFF_MS doubling, capped at BUDGET_ALERT_MAX_BACKOFF_MS), so it
 * survives webhook outages and worker restarts. At least once: a worker that dies between the webhook's 2xx and
 * the ack sends that alert again; the `x-gateway-alert-id` header lets the receiver drop the repeat. At boot the
 * ALERTS stream gets its retention (ALERTS_MAX_AGE_MS, ALERTS_MAX_MSGS), also when it exists with other limits.
 */
@Injectable()
export class AlertDelivery implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('BudgetAlerts');
  private consumer: OneByOneConsumer<typeof contracts.budgetAlerts> | null = null;
  private warnedNoUrl = false;
  readonly stats: AlertStats = { delivered: 0, retried: 0, dropped: 0, poison: 0 };

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(WORKER_ENV) private readonly env: WorkerEnv,
    private readonly webhook: AlertWebhook,
    @Optional() @Inject(ALERT_TARGET) private readonly target: AlertTargetOverride | null = null,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { ackWaitMs, ...target } = this.target ?? {};
    this.consumer = new OneByOneConsumer(this.nc, contracts.budgetAlerts, (alert) => this.deliver(alert), {
      target,
      streamLimits: { maxAgeMs: this.env.ALERTS_MAX_AGE_MS, maxMsgs: this.env.ALERTS_MAX_MSGS },
      // a call in progress (and the one pulled ahead) must finish well within the ack wait, or it is delivered twice
      ackWaitMs: ackWaitMs ?? Math.max(60_000, 3 * this.env.BUDGET_ALERT_TIMEOUT_MS),
      nakDelayMs: this.env.BUDGET_ALERT_BACKOFF_MS,
      maxNakDelayMs: this.env.BUDGET_ALERT_MAX_BACKOFF_MS,
      onPoison: (raw, err) => {
        this.stats.poison++;
        this.logger.warn(`dropped a malformed budget alert (seq ${raw.seq}): ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`);
      },
      onError: (err) => this.logger.error(`budget alert consumer stopped: ${err instanceof Error ? err.message : String(err)}`),
      onRetry: (err, deliveryCount, delayMs) => {
        this.stats.retried++;
        this.logger.warn(
          `budget alert not delivered (attempt ${deliveryCount}: ${err instanceof Error ? err.message : String(err)}), retry in ${delayMs} ms`,
        );
      },
    });
    await this.consumer.start();
  }

  /** One alert to the webhook; throws when it was not delivered (the consumer naks it). */
  @Handles('budgetAlerts')
  async deliver(alert: BudgetAlertEvent): Promise<void> {
    const url = this.env.BUDGET_ALERT_WEBHOOK_URL;
    const id = budgetAlertId(alert);
    if (!url) {
      this.stats.dropped++;
      if (!this.warnedNoUrl) {
        this.warnedNoUrl = true;
        this.logger.warn('BUDGET_ALERT_WEBHOOK_URL is not set: budget alerts are acknowledged and dropped');
      }
      return;
    }
    await this.webhook.post(url, JSON.stringify(alert), id, this.env.BUDGET_ALERT_TIMEOUT_MS);
    this.stats.delivered++;
    this.logger.log(`budget alert ${id} delivered (${alert.spentUsd} of ${alert.budgetUsd} USD)`);
  }

  /** Before NATS drains: stop pulling and finish the alert being delivered. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }
}
