import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { jsonLogger, nestNatsOptions } from '@gw/transport';
import { AppModule, type BillingModuleOptions } from './app.module.js';
import type { BillingEnv } from './config/env.js';
import { OpenAiErrorFilter } from './http/openai-error.filter.js';

/**
 * The billing service is hybrid: Fastify HTTP for finance (BILLING_PORT) and Nest's NATS transport for the
 * control plane (queue group `billing`). Returns the started app; `close()` drains both.
 */
export async function startBilling(env: BillingEnv, opts: BillingModuleOptions & { port?: number } = {}): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(env, opts), new FastifyAdapter({ bodyLimit: 64 * 1024 }), {
    logger: jsonLogger('billing', env.LOG_LEVEL),
  });
  app.useGlobalFilters(new OpenAiErrorFilter());
  app.connectMicroservice<MicroserviceOptions>(nestNatsOptions({ service: 'billing', url: env.NATS_URL }), { inheritAppConfig: true });
  app.enableShutdownHooks();
  await app.startAllMicroservices();
  await app.listen(opts.port ?? env.BILLING_PORT, env.HOST);
  return app;
}
