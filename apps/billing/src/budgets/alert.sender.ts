import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BillingEnv } from '../config/env.js';
import { BILLING_ENV } from '../config/tokens.js';

const ATTEMPTS = 5;
const TIMEOUT_MS = 5_000;

/**
 * POSTs budget alerts to BUDGET_ALERT_WEBHOOK_URL as JSON, off the ingest path, with retries (5 attempts,
 * BUDGET_ALERT_BACKOFF_MS doubling) on a network error or a non-2xx answer. Each threshold fires once per budget period (Redis marks it
 * when the settlement crosses it); an alert whose every attempt failed is logged as lost.
 */
@Injectable()
export class AlertSender {
  private readonly logger = new Logger('BudgetAlerts');
  private readonly url: string | undefined;
  private readonly backoffMs: number;

  constructor(@Inject(BILLING_ENV) env: BillingEnv) {
    this.url = env.BUDGET_ALERT_WEBHOOK_URL;
    this.backoffMs = env.BUDGET_ALERT_BACKOFF_MS;
  }

  send(body: unknown): void {
    if (!this.url) return;
    void this.deliver(this.url, JSON.stringify(body));
  }

  private async deliver(url: string, json: string): Promise<void> {
    let last = '';
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: json,
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        await res.body?.cancel();
        if (res.ok) return;
        last = `status ${res.status}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      if (attempt < ATTEMPTS) await new Promise((r) => setTimeout(r, this.backoffMs * 2 ** (attempt - 1)));
    }
    this.logger.error(`budget alert not delivered after ${ATTEMPTS} attempts (${last}): ${json}`);
  }
}
