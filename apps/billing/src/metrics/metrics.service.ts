import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';

/** Prometheus metrics of billing (a registry of its own, so two apps in one process never clash). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly usageStored = new Counter({
    name: 'gw_billing_usage_records_stored_total',
    help: 'usage records stored (new request ids; redeliveries and duplicates are not counted)',
    registers: [this.registry],
  });
  readonly reconciliationBreaks = new Gauge({
    name: 'gw_billing_reconciliation_breaks',
    help: 'breaks found by the last reconciliation run, per invariant (0 = holds)',
    labelNames: ['check'] as const,
    registers: [this.registry],
  });
  readonly reconciliationRuns = new Counter({
    name: 'gw_billing_reconciliation_runs_total',
    help: 'reconciliation runs by result (ok | broken)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly alertsPublished = new Counter({
    name: 'gw_billing_budget_alerts_published_total',
    help: 'budget alerts handed to JetStream for the worker, by result (ok | failed: every retry failed, logged; published again later, ADR 0018)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
}
