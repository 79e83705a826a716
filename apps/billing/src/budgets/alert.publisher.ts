import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { budgetAlertId, contracts, type BudgetAlertEvent } from '@gw/contracts';
import { DurablePublisher, type DurableTarget } from '@gw/transport';
import { ALERT_TARGET } from '../config/tokens.js';
import { MetricsService } from '../metrics/metrics.service.js';

/** How long a shutdown waits for alerts still being published (DurablePublisher retries a failed publish). */
const SHUTDOWN_WAIT_MS = 15_000;

/**
 * Hands budget alerts to the worker through JetStream (`contracts.budgetAlerts`), off the ingest path: `publish`
 * returns at once, DurablePublisher retries a failed publish with backoff, and one that still fails is logged and
 * counted (the ingest is neither slowed nor failed by it). Once JetStream stored the alert, `onStored` marks it
 * published in Redis; until then the settlement keeps reporting it and it is published again (ADR 0018). The
 * message id is the alert's id (budget + period + threshold), so a second publish of the same alert within
 * JetStream's duplicate window is dropped, and an alert already being published here is not published twice at
 * once. Delivery to the webhook, with retries across outages and restarts, is the worker's job.
 */
@Injectable()
export class AlertPublisher {
  private readonly logger = new Logger('BudgetAlerts');
  private readonly contract: typeof contracts.budgetAlerts;
  /** the alerts being published, by alert id */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly publisher: DurablePublisher,
    private readonly metrics: MetricsService,
    @Optional() @Inject(ALERT_TARGET) target: Partial<Pick<DurableTarget, 'stream' | 'subject'>> | null = null,
  ) {
    this.contract = target ? ({ ...contracts.budgetAlerts, ...target } as typeof contracts.budgetAlerts) : contracts.budgetAlerts;
  }

  /**
   * Publishes the alert in the background, then calls `onStored` (marks it published). Returns false when the
   * same alert is already being published here (nothing more is done).
   */
  publish(alert: BudgetAlertEvent, onStored?: () => Promise<void>): boolean {
    const id = budgetAlertId(alert);
    if (this.inFlight.has(id)) return false;
    const p = this.publisher.publish(this.contract, alert, id).then(
      async () => {
        this.metrics.alertsPublished.inc({ result: 'ok' });
        await onStored?.().catch((err: unknown) =>
          this.logger.warn(
            `budget alert ${id} published but not marked so (${err instanceof Error ? err.message : String(err)}): it will be published again, with the same id`,
          ),
        );
      },
      (err: unknown) => {
        this.metrics.alertsPublished.inc({ result: 'failed' });
        this.logger.error(
          `budget alert ${id} not published yet (${err instanceof Error ? err.message : String(err)}): the next settlement on its budget or the resend sweep publishes it: ${JSON.stringify(alert)}`,
        );
      },
    );
    this.inFlight.set(id, p);
    void p.finally(() => this.inFlight.delete(id));
    return true;
  }

  /** Resolves once every alert handed over so far is stored by JetStream and marked (or given up on). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()]);
  }

  /**
   * At shutdown (SettlementService's, after the usage consumer stopped and before NATS drains and the Redis that
   * marks them closes): let the last alerts out, waiting 15 s at most.
   */
  async drain(): Promise<void> {
    if (this.inFlight.size === 0) return;
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), SHUTDOWN_WAIT_MS).unref());
    if ((await Promise.race([this.settled().then(() => 'done' as const), timer])) === 'timeout') {
      this.logger.error(`${this.inFlight.size} budget alert(s) still unpublished at shutdown`);
    }
  }
}
