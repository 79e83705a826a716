import { Logger, Module, type DynamicModule } from '@nestjs/common';
import { loadGatewayConfig } from '@gw/config';
import { contracts, type GatewayConfig } from '@gw/contracts';
import { DurablePublisher, HotClient, NATS_CONNECTION, NatsModule } from '@gw/transport';
import type { NatsConnection } from '@nats-io/transport-node';
import { rawEnv, type ExecutorEnv } from './config/env.js';
import { EXECUTOR_ENV } from './config/tokens.js';
import { ChatExecutor } from './chat/chat.executor.js';
import { ChatRpc } from './chat/chat.rpc.js';
import { EmbeddingsExecutor } from './embeddings/embeddings.executor.js';
import { EmbeddingsRpc } from './embeddings/embeddings.rpc.js';
import { ConfigReload } from './chat/config-reload.js';
import { OutcomeBatcher } from './chat/outcome-batcher.js';
import type { OutcomeSink } from './chat/routing-story.js';
import { PingController } from './health/ping.controller.js';
import { ImageFetcher } from './images/image-fetcher.js';
import { ProviderDirectory } from './providers/provider-directory.js';
import { CredentialsSync } from './providers/credentials.sync.js';
import { UpstreamClient } from './upstream/upstream.client.js';
import { UsageRecorder } from './usage/usage.recorder.js';

const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

function providerDirectory(env: ExecutorEnv, config: GatewayConfig): ProviderDirectory {
  const dir = new ProviderDirectory(config, rawEnv());
  const logger = new Logger('Providers');
  logger.log(`config: ${dir.size} providers (${env.GATEWAY_CONFIG ?? 'built-in simulator config'})`);
  const missing = dir.withoutAdapter();
  if (missing.length) logger.warn(`providers without an adapter yet (their targets fail over): ${missing.join(', ')}`);
  return dir;
}

@Module({})
export class AppModule {
  static forRoot(env: ExecutorEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [NatsModule.forRoot({ service: 'executor', url: env.NATS_URL })],
      controllers: [PingController],
      providers: [
        { provide: EXECUTOR_ENV, useValue: env },
        { provide: GATEWAY_CONFIG, useFactory: (e: ExecutorEnv) => loadGatewayConfig(e.GATEWAY_CONFIG, rawEnv()), inject: [EXECUTOR_ENV] },
        { provide: ProviderDirectory, useFactory: providerDirectory, inject: [EXECUTOR_ENV, GATEWAY_CONFIG] },
        { provide: ImageFetcher, useFactory: (c: GatewayConfig) => new ImageFetcher(c.images), inject: [GATEWAY_CONFIG] },
        { provide: UpstreamClient, useFactory: (e: ExecutorEnv) => new UpstreamClient(e.UPSTREAM_CONNECTIONS_PER_ORIGIN), inject: [EXECUTOR_ENV] },
        {
          provide: UsageRecorder,
          useFactory: (nc: NatsConnection, publisher: DurablePublisher) => new UsageRecorder(nc, publisher),
          inject: [NATS_CONNECTION, DurablePublisher],
        },
        {
          provide: ChatExecutor,
          useFactory: (d: ProviderDirectory, u: UpstreamClient, r: UsageRecorder, i: ImageFetcher, batcher: OutcomeBatcher) => {
            // every attempt's outcome goes to every router replica (health: latency, circuit breaker)
            const outcomes: OutcomeSink = (e) => batcher.push(e);
            return new ChatExecutor(d, u, r, i, outcomes);
          },
          inject: [ProviderDirectory, UpstreamClient, UsageRecorder, ImageFetcher, OutcomeBatcher],
        },
        {
          provide: OutcomeBatcher,
          useFactory: (hot: HotClient) => new OutcomeBatcher((batch) => hot.emit(contracts.routingOutcomes, batch)),
          inject: [HotClient],
        },
        ChatRpc,
        {
          provide: EmbeddingsExecutor,
          useFactory: (d: ProviderDirectory, u: UpstreamClient, r: UsageRecorder) => new EmbeddingsExecutor(d, u, r),
          inject: [ProviderDirectory, UpstreamClient, UsageRecorder],
        },
        EmbeddingsRpc,
        CredentialsSync,
        ConfigReload,
      ],
    };
  }
}
