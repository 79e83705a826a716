import { Module, type DynamicModule } from '@nestjs/common';
import { NatsModule } from '@gw/transport';
import type { RouterEnv } from './config/env.js';
import { ROUTER_ENV } from './config/tokens.js';
import { CatalogueService } from './planning/catalogue.service.js';
import { ChatRoute } from './planning/chat.route.js';
import { EmbeddingsRoute } from './planning/embeddings.route.js';
import { OutcomeHandler } from './health/outcome.handler.js';
import { ModelsController } from './models/models.controller.js';

@Module({})
export class AppModule {
  static forRoot(env: RouterEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [NatsModule.forRoot({ service: 'router', url: env.NATS_URL })],
      controllers: [ModelsController],
      providers: [{ provide: ROUTER_ENV, useValue: env }, CatalogueService, ChatRoute, EmbeddingsRoute, OutcomeHandler],
    };
  }
}
