import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { budgetAlertId, contracts, type BudgetAlertEvent } from '@gw/contracts';
import { DurablePublisher, type DurableTarget } from '@gw/transport';
import { ALERT_TARGET } from '../config/tokens.js';
import { MetricsService } from '../metrics/metrics.service.js';

/** How long a shutdown waits for alerts still being published (DurablePublisher retries a failed publish). */
const SHUTDOWN_WAIT_MS = 15_000;

/**
 * Hands budget alerts to the worker through JetStream (`contracts.budgetAlerts`), off the ingest path: `publish`
 * returns at once, DurablePublisher retries a failed publish with backoff, and one that still fails is logged
 * (the ingest is neither slowed nor failed by it). The message id is the alert's id (budget + period + threshold),
 * so a second publish of the same alert within JetStream's duplicate window is dropped. Delivery to the webhook,
 * with retries across outages and restarts, is the worker's job.
 */
@Injectable()
export class AlertPublisher implements OnApplicationShutdown {
  private readonly logger = new Logger('BudgetAlerts');
  private readonly contract: typeof contracts.budgetAlerts;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly publisher: DurablePublisher,
    private readonly metrics: MetricsService,
    @Optional() @Inject(ALERT_TARGET) target: Partial<Pick<DurableTarget, 'stream' | 'subject'>> | null = null,
  ) {
    this.contract = target ? ({ ...contracts.budgetAlerts, ...target } as typeof contracts.budgetAlerts) : contracts.budgetAlerts;
  }

  publish(alert: BudgetAlertEvent): void {
    const id = budgetAlertId(alert);
    const p = this.publisher.publish(this.contract, alert, id).then(
      () => void this.metrics.alertsPublished.inc({ result: 'ok' }),
      (err: unknown) => {
        this.metrics.alertsPublished.inc({ result: 'failed' });
        this.logger.error(
          `budget alert ${id} not published, it is lost: ${err instanceof Error ? err.message : String(err)}: ${JSON.stringify(alert)}`,
        );
      },
    );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Resolves once every alert handed over so far is stored by JetStream (or given up on). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** After the usage consumer stopped (beforeApplicationShutdown), before NATS drains: let the last alerts out. */
  async onApplicationShutdown(): Promise<void> {
    if (this.inFlight.size === 0) return;
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), SHUTDOWN_WAIT_MS).unref());
    if ((await Promise.race([this.settled().then(() => 'done' as const), timer])) === 'timeout') {
      this.logger.error(`${this.inFlight.size} budget alert(s) still unpublished at shutdown`);
    }
  }
}
