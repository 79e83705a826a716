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
import { FailOpen } from './chat/fail-open.js';
import { Relay } from './chat/relay.js';
import { ExactCacheLifecycle, exactCacheProvider } from './chat/exact-cache.provider.js';
import { UsagePublisher } from './chat/usage.publisher.js';
import { EmbeddingsHttp } from './embeddings/embeddings.http.js';
import { EmbeddingsService } from './embeddings/embeddings.service.js';
import { MessagesHttp } from './messages/messages.http.js';
import { ModelsHttp } from './models/models.http.js';
import { HealthHttp } from './health/health.http.js';
import { MetricsService } from './metrics/metrics.service.js';
import { AdminHttp } from './admin/admin.http.js';
import { ConfigHttp } from './admin/config.http.js';
import { AdminRepository } from './admin/admin.repository.js';
import { AdminService } from './admin/admin.service.js';
import { budgetsProvider, RedisLifecycle, redisProvider } from './limits/budgets.provider.js';
import { LimitsService } from './limits/limits.service.js';
import { CredentialsHttp } from './credentials/credentials.http.js';
import { CredentialsRepository } from './credentials/credentials.repository.js';
import { CredentialsService } from './credentials/credentials.service.js';

@Module({})
export class AppModule {
  static forRoot(env: IngressEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [NatsModule.forRoot({ service: 'ingress', url: env.NATS_URL })],
      controllers: [ChatHttp, MessagesHttp, EmbeddingsHttp, ModelsHttp, HealthHttp, AdminHttp, CredentialsHttp, ConfigHttp],
      providers: [
        { provide: INGRESS_ENV, useValue: env },
        gatewayConfigProvider,
        prismaProvider,
        PrismaLifecycle,
        MetricsService,
        KeysRepository,
        AuthService,
        redisProvider,
        RedisLifecycle,
        budgetsProvider,
        LimitsService,
        UsagePublisher,
        Relay,
        FailOpen,
        ChatService,
        EmbeddingsService,
        exactCacheProvider,
        ExactCacheLifecycle,
        AdminRepository,
        AdminService,
        CredentialsRepository,
        CredentialsService,
      ],
    };
  }
}
