import { Module, type DynamicModule } from '@nestjs/common';
import { NatsModule } from '@gw/transport';
import type { IngressEnv } from './config/env.js';
import { gatewayConfigProvider } from './config/gateway-config.js';
import { INGRESS_ENV } from './config/tokens.js';
import { prismaProvider, PrismaLifecycle } from './db/prisma.provider.js';
import { AuthService } from './auth/auth.service.js';
import { KeysRepository } from './auth/keys.repository.js';
import { ChatHttp } from './chat/chat.http.js';
import { ChatService } from './chat/chat.service.js';
import { ExactCacheLifecycle, exactCacheProvider } from './chat/exact-cache.provider.js';
import { UsagePublisher } from './chat/usage.publisher.js';
import { ModelsHttp } from './models/models.http.js';
import { HealthHttp } from './health/health.http.js';
import { MetricsService } from './metrics/metrics.service.js';
import { AdminHttp } from './admin/admin.http.js';
import { AdminRepository } from './admin/admin.repository.js';
import { AdminService } from './admin/admin.service.js';

@Module({})
export class AppModule {
  static forRoot(env: IngressEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [NatsModule.forRoot({ service: 'ingress', url: env.NATS_URL })],
      controllers: [ChatHttp, ModelsHttp, HealthHttp, AdminHttp],
      providers: [
        { provide: INGRESS_ENV, useValue: env },
        gatewayConfigProvider,
        prismaProvider,
        PrismaLifecycle,
        MetricsService,
        KeysRepository,
        AuthService,
        UsagePublisher,
        ChatService,
        exactCacheProvider,
        ExactCacheLifecycle,
        AdminRepository,
        AdminService,
      ],
    };
  }
}
