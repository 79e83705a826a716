import { Module, type DynamicModule } from '@nestjs/common';
import { NatsModule } from '@gw/transport';
import type { ModerationEnv } from './config/env.js';
import { MODERATION_ENV } from './config/tokens.js';
import { InputRpc } from './input/input.rpc.js';
import { InputService } from './input/input.service.js';
import { PingController } from './ping/ping.controller.js';
import { PolicyService } from './policy/policy.service.js';

@Module({})
export class AppModule {
  static forRoot(env: ModerationEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [NatsModule.forRoot({ service: 'moderation', url: env.NATS_URL })],
      controllers: [PingController],
      providers: [{ provide: MODERATION_ENV, useValue: env }, PolicyService, InputService, InputRpc],
    };
  }
}
