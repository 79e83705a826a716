import { Module, type DynamicModule } from '@nestjs/common';
import { NatsModule } from '@gw/transport';
import type { WorkerEnv } from './config/env.js';
import { WORKER_ENV } from './config/tokens.js';
import { LedgerQueue } from './ledger/ledger.queue.js';
import { PingController } from './ping/ping.controller.js';
import { RollupQueue } from './rollup/rollup.queue.js';
import { RollupService } from './rollup/rollup.service.js';

@Module({})
export class AppModule {
  static forRoot(env: WorkerEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [NatsModule.forRoot({ service: 'worker', url: env.NATS_URL })],
      controllers: [PingController],
      providers: [{ provide: WORKER_ENV, useValue: env }, RollupService, RollupQueue, LedgerQueue],
    };
  }
}
