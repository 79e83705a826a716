import 'reflect-metadata';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { jsonLogger } from '@gw/transport';
import type { FastifyInstance } from 'fastify';
import { AppModule } from './app.module.js';
import type { IngressEnv } from './config/env.js';
import { requestIdFrom } from './chat/request-headers.js';
import { OpenAIErrorFilter } from './http/error.filter.js';
import { registerJsonParser } from './http/fastify-setup.js';
import { MetricsService } from './metrics/metrics.service.js';

/**
 * The ingress as a Nest application on Fastify (not listening yet): Fastify's logger off (Nest's JSON logger
 * instead), our own JSON body parser (bytes kept, parsed once), every error in the OpenAI shape.
 */
export async function createIngressApp(env: IngressEnv): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    logger: false,
    bodyLimit: env.MAX_BODY_BYTES,
    return503OnClosing: true,
    // req.id = the client's x-request-id when it is sane, else a fresh UUID; echoed on every response
    requestIdHeader: false,
    genReqId: (req: IncomingMessage) => requestIdFrom(req.headers['x-request-id']),
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(env), adapter, {
    bodyParser: false,
    logger: jsonLogger('ingress', env.LOG_LEVEL),
    abortOnError: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeAllContentTypeParsers();
  registerJsonParser(fastify, env.MAX_BODY_BYTES);
  instrument(fastify, app.get(MetricsService));
  app.useGlobalFilters(new OpenAIErrorFilter(env.MAX_BODY_BYTES));
  app.enableShutdownHooks();
  return app;
}

/** x-request-id on every response; request count by route and status, duration, in-flight (one `close` listener, no logging). */
function instrument(fastify: FastifyInstance, metrics: MetricsService): void {
  fastify.addHook('onRequest', (req, reply, done) => {
    const start = performance.now();
    void reply.header('x-request-id', req.id);
    metrics.inFlight.inc();
    reply.raw.once('close', () => {
      metrics.inFlight.dec();
      const route = req.routeOptions.url ?? 'unmatched';
      const status = reply.raw.writableFinished ? String(reply.raw.statusCode) : '499';
      metrics.requests.labels(route, status).inc();
      metrics.latency.labels(route).observe((performance.now() - start) / 1000);
    });
    done();
  });
}
