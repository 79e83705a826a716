import { Module, type DynamicModule } from '@nestjs/common';
import { NatsModule } from '@gw/transport';
import type { CacheEnv } from './config/env.js';
import { CACHE_ENV } from './config/tokens.js';
import { ExactRpc } from './exact/exact.rpc.js';
import { ExactService } from './exact/exact.service.js';
import { exactCacheProvider } from './exact/exact-cache.provider.js';
import { PingController } from './ping/ping.controller.js';

@Module({})
export class AppModule {
  static forRoot(env: CacheEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [NatsModule.forRoot({ service: 'cache', url: env.NATS_URL })],
      controllers: [PingController],
      providers: [{ provide: CACHE_ENV, useValue: env }, exactCacheProvider, ExactService, ExactRpc],
    };
  }
}
