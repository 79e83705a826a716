import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { NatsModule } from '@gw/transport';
import type { WorkerEnv } from './config/env.js';
import { ALERT_TARGET, WORKER_ENV } from './config/tokens.js';
import { AlertDelivery, type AlertTargetOverride } from './alerts/alert.delivery.js';
import { AlertWebhook } from './alerts/alert.webhook.js';
import { LedgerQueue } from './ledger/ledger.queue.js';
import { PingController } from './ping/ping.controller.js';
import { RollupQueue } from './rollup/rollup.queue.js';
import { RollupService } from './rollup/rollup.service.js';

export type WorkerModuleOptions = {
  /** tests: consume budget alerts from a unique JetStream stream/subject/durable instead of the contract's */
  alertTarget?: AlertTargetOverride;
};

@Module({})
export class AppModule {
  static forRoot(env: WorkerEnv, opts: WorkerModuleOptions = {}): DynamicModule {
    const providers: Provider[] = [{ provide: WORKER_ENV, useValue: env }, RollupService, RollupQueue, LedgerQueue, AlertWebhook, AlertDelivery];
    if (opts.alertTarget) providers.push({ provide: ALERT_TARGET, useValue: opts.alertTarget });
    return {
      module: AppModule,
      imports: [NatsModule.forRoot({ service: 'worker', url: env.NATS_URL })],
      controllers: [PingController],
      providers,
    };
  }
}
