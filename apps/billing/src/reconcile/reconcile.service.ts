import { Injectable, Logger } from '@nestjs/common';
import type { ReconcileResult } from '@gw/contracts';
import { MetricsService } from '../metrics/metrics.service.js';
import { ReconcileRepository } from './reconcile.repository.js';

/** Re-checks the ledger's invariants; a break is logged, counted in the metrics and kept in reconciliation_runs. */
@Injectable()
export class ReconcileService {
  private readonly logger = new Logger('Reconcile');

  constructor(
    private readonly repo: ReconcileRepository,
    private readonly metrics: MetricsService,
  ) {}

  async run(): Promise<ReconcileResult> {
    const startedAt = new Date();
    const checks = await this.repo.runChecks();
    const runId = await this.repo.recordRun(startedAt, checks);
    const ok = checks.every((c) => c.breaks === 0);
    for (const c of checks) this.metrics.reconciliationBreaks.set({ check: c.check }, c.breaks);
    this.metrics.reconciliationRuns.inc({ result: ok ? 'ok' : 'broken' });
    if (ok) this.logger.log(`reconciliation run ${runId}: every invariant holds`);
    else {
      for (const c of checks.filter((x) => x.breaks > 0)) {
        this.logger.error(`reconciliation run ${runId}: ${c.check} broken ${c.breaks} time(s), e.g. ${c.sample.join('; ')}`);
      }
    }
    return { runId, ok, checks };
  }
}
