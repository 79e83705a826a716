import { Logger, Module, type DynamicModule } from '@nestjs/common';
import { loadGatewayConfig } from '@gw/config';
import { contracts } from '@gw/contracts';
import { DurablePublisher, HotClient, NATS_CONNECTION, NatsModule } from '@gw/transport';
import type { NatsConnection } from '@nats-io/transport-node';
import { rawEnv, type ExecutorEnv } from './config/env.js';
import { EXECUTOR_ENV } from './config/tokens.js';
import { ChatExecutor } from './chat/chat.executor.js';
import { ChatRpc } from './chat/chat.rpc.js';
import { ConfigReload } from './chat/config-reload.js';
import type { OutcomeSink } from './chat/routing-story.js';
import { PingController } from './health/ping.controller.js';
import { ProviderDirectory } from './providers/provider-directory.js';
import { UpstreamClient } from './upstream/upstream.client.js';
import { UsageRecorder } from './usage/usage.recorder.js';

function providerDirectory(env: ExecutorEnv): ProviderDirectory {
  const dir = new ProviderDirectory(loadGatewayConfig(env.GATEWAY_CONFIG, rawEnv()));
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
        { provide: ProviderDirectory, useFactory: providerDirectory, inject: [EXECUTOR_ENV] },
        { provide: UpstreamClient, useFactory: (e: ExecutorEnv) => new UpstreamClient(e.UPSTREAM_CONNECTIONS_PER_ORIGIN), inject: [EXECUTOR_ENV] },
        {
          provide: UsageRecorder,
          useFactory: (nc: NatsConnection, publisher: DurablePublisher) => new UsageRecorder(nc, publisher),
          inject: [NATS_CONNECTION, DurablePublisher],
        },
        {
          provide: ChatExecutor,
          useFactory: (d: ProviderDirectory, u: UpstreamClient, r: UsageRecorder, hot: HotClient) => {
            // every attempt's outcome goes to every router replica (health: latency, circuit breaker)
            const outcomes: OutcomeSink = (e) => hot.emit(contracts.routingOutcome, e, e.requestId);
            return new ChatExecutor(d, u, r, outcomes);
          },
          inject: [ProviderDirectory, UpstreamClient, UsageRecorder, HotClient],
        },
        ChatRpc,
        ConfigReload,
      ],
    };
  }
}
