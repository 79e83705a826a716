import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { NatsModule } from '@gw/transport';
import { AdminAuthGuard, FinanceAuthGuard } from './auth/finance-auth.guard.js';
import type { BillingEnv } from './config/env.js';
import type { GatewayConfig } from '@gw/contracts';
import { ALERT_TARGET, BILLING_ENV, GATEWAY_CONFIG, USAGE_TARGET } from './config/tokens.js';
import { DocsHttp } from './docs/docs.http.js';
import { MetricsService } from './metrics/metrics.service.js';
import { PricesHttp } from './prices/prices.http.js';
import { PricesRepository } from './prices/prices.repository.js';
import { PricesSeed } from './prices/prices.seed.js';
import { PricesService } from './prices/prices.service.js';
import { ReconcileRepository } from './reconcile/reconcile.repository.js';
import { ReconcileRpc } from './reconcile/reconcile.rpc.js';
import { ReconcileService } from './reconcile/reconcile.service.js';
import { PgPoolLifecycle, pgPoolProvider } from './db/pg.provider.js';
import { HealthHttp } from './health/health.http.js';
import { ReportsHttp } from './reports/reports.http.js';
import { ReportsRepository } from './reports/reports.repository.js';
import { ReportsService } from './reports/reports.service.js';
import { RollupRepository } from './rollup/rollup.repository.js';
import { RollupRpc } from './rollup/rollup.rpc.js';
import { UsageIngestService, type UsageTargetOverride } from './usage/usage-ingest.service.js';
import { UsageRepository } from './usage/usage.repository.js';
import { AlertPublisher } from './budgets/alert.publisher.js';
import { SettlementService } from './budgets/settlement.service.js';

export type BillingModuleOptions = {
  /** tests: consume from a unique JetStream stream/subject/durable instead of the contract's */
  usageTarget?: UsageTargetOverride;
  /** tests: the gateway config whose prices are seeded (default: GATEWAY_CONFIG, else the built-in one) */
  gatewayConfig?: GatewayConfig;
  /** tests: publish budget alerts to a unique JetStream stream/subject instead of the contract's */
  alertTarget?: { stream: string; subject: string };
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
      AlertPublisher,
      SettlementService,
      RollupRepository,
      ReportsRepository,
      ReportsService,
      FinanceAuthGuard,
      AdminAuthGuard,
      MetricsService,
      PricesRepository,
      PricesService,
      PricesSeed,
      ReconcileRepository,
      ReconcileService,
    ];
    if (opts.usageTarget) providers.push({ provide: USAGE_TARGET, useValue: opts.usageTarget });
    if (opts.alertTarget) providers.push({ provide: ALERT_TARGET, useValue: opts.alertTarget });
    if (opts.gatewayConfig) providers.push({ provide: GATEWAY_CONFIG, useValue: opts.gatewayConfig });
    return {
      module: AppModule,
      imports: [NatsModule.forRoot({ service: 'billing', url: env.NATS_URL })],
      controllers: [RollupRpc, ReconcileRpc, ReportsHttp, PricesHttp, HealthHttp, DocsHttp],
      providers,
    };
  }
}
