import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { NatsConnection } from '@nats-io/transport-node';
import { NATS_CONNECTION } from '@gw/transport';
import { MetricsService } from '../metrics/metrics.service.js';
import { ReportsRepository } from '../reports/reports.repository.js';

type Check = { ok: boolean; error?: string };

async function check(fn: () => Promise<unknown>, timeoutMs: number): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : 'failed' };
  } finally {
    clearTimeout(timer);
  }
}

@Controller()
export class HealthHttp {
  constructor(
    private readonly repo: ReportsRepository,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly metrics: MetricsService,
  ) {}

  /** Prometheus text: usage stored, reconciliation breaks per invariant, reconciliation runs. */
  @Get('metrics')
  async metricsText(@Res() reply: FastifyReply): Promise<FastifyReply> {
    return reply.header('content-type', this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }

  @Get('health')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready when Postgres answers a query and the NATS connection answers a flush. */
  @Get('ready')
  async ready(@Res() reply: FastifyReply): Promise<FastifyReply> {
    const [database, nats] = await Promise.all([check(() => this.repo.ping(), 2_000), check(() => this.nc.flush(), 2_000)]);
    const ok = database.ok && nats.ok;
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks: { database, nats } });
  }
}
