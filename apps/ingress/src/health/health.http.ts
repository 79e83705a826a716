import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { contracts } from '@gw/contracts';
import type { PrismaClient } from '@gw/db';
import { ControlClient, NATS_CONNECTION } from '@gw/transport';
import type { NatsConnection } from '@nats-io/transport-node';
import type { FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import { PRISMA } from '../config/tokens.js';
import { REDIS } from '../limits/budgets.provider.js';
import { MetricsService } from '../metrics/metrics.service.js';

const CHECK_TIMEOUT_MS = 1_000;

type Check = { ok: boolean; error?: string };

@Controller()
export class HealthHttp {
  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly control: ControlClient,
    private readonly metrics: MetricsService,
  ) {}

  /** Liveness: the process is up and serving HTTP. */
  @Get('/health')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Readiness: NATS connected, Postgres answers, Redis answers (rate limits, budgets, the exact cache), a router
   * answers its ping. 503 names what failed.
   */
  @Get('/ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const [nats, postgres, redis, router] = await Promise.all([
      this.check(async () => {
        if (this.nc.isClosed()) throw new Error('connection closed');
        await this.nc.flush();
      }),
      this.check(async () => {
        await this.prisma.$queryRaw`select 1`;
      }),
      this.check(async () => {
        await this.redis.ping();
      }),
      this.check(async () => {
        await this.control.send(contracts.routerPing, {}, CHECK_TIMEOUT_MS);
      }),
    ]);
    const checks = { nats, postgres, redis, router };
    const failed = Object.entries(checks).filter(([, c]) => !c.ok).map(([k]) => k);
    void reply.code(failed.length ? 503 : 200).send({ status: failed.length ? 'unavailable' : 'ready', failed, checks });
  }

  @Get('/metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }

  private async check(fn: () => Promise<void>): Promise<Check> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
        }),
      ]);
      return { ok: true };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : 'failed' };
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
}
