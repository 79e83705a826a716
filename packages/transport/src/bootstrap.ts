import 'reflect-metadata';
import { ConsoleLogger, type INestApplicationContext, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import type { ServiceName } from '@gw/contracts';
import { nestNatsOptions } from './nest.js';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

export function jsonLogger(service: ServiceName, level: LogLevel): ConsoleLogger {
  return new ConsoleLogger(service, { json: true, logLevels: LEVELS.slice(0, LEVELS.indexOf(level) + 1) });
}

/**
 * Starts a service that has no HTTP port of its own: Nest's NATS transport for the control plane (queue group =
 * the service) and the hot-path handlers registered by NatsModule. SIGTERM/SIGINT drain NATS before exit.
 */
export async function bootstrapMicroservice(
  module: unknown,
  opts: { service: ServiceName; natsUrl: string; logLevel: LogLevel },
): Promise<INestApplicationContext> {
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(module as never, {
    ...nestNatsOptions({ service: opts.service, url: opts.natsUrl }),
    logger: jsonLogger(opts.service, opts.logLevel),
  });
  app.enableShutdownHooks();
  await app.listen();
  return app;
}
