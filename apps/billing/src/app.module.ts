import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { NatsModule } from '@gw/transport';
import { FinanceAuthGuard } from './auth/finance-auth.guard.js';
import type { BillingEnv } from './config/env.js';
import { BILLING_ENV, USAGE_TARGET } from './config/tokens.js';
import { PgPoolLifecycle, pgPoolProvider } from './db/pg.provider.js';
import { HealthHttp } from './health/health.http.js';
import { ReportsHttp } from './reports/reports.http.js';
import { ReportsRepository } from './reports/reports.repository.js';
import { ReportsService } from './reports/reports.service.js';
import { RollupRepository } from './rollup/rollup.repository.js';
import { RollupRpc } from './rollup/rollup.rpc.js';
import { UsageIngestService, type UsageTargetOverride } from './usage/usage-ingest.service.js';
import { UsageRepository } from './usage/usage.repository.js';
import { AlertSender } from './budgets/alert.sender.js';
import { SettlementService } from './budgets/settlement.service.js';

export type BillingModuleOptions = {
  /** tests: consume from a unique JetStream stream/subject/durable instead of the contract's */
  usageTarget?: UsageTargetOverride;
};

@Module({})
export class AppModule {
  static forRoot(env: BillingEnv, opts: BillingModuleOptions = {}): DynamicModule {
    const providers: Provider[] = [
      { provide: BILLING_ENV, useValue: env },
      pgPoolProvider,
      PgPoolLifecycle,
      UsageRepository,
      UsageIngestService,
      AlertSender,
      SettlementService,
      RollupRepository,
      ReportsRepository,
      ReportsService,
      FinanceAuthGuard,
    ];
    if (opts.usageTarget) providers.push({ provide: USAGE_TARGET, useValue: opts.usageTarget });
    return {
      module: AppModule,
      imports: [NatsModule.forRoot({ service: 'billing', url: env.NATS_URL })],
      controllers: [RollupRpc, ReportsHttp, HealthHttp],
      providers,
    };
  }
}
