import { Injectable, Logger } from '@nestjs/common';
import { GatewayError } from '@gw/contracts';
import { MetricsService } from '../metrics/metrics.service.js';

const LOG_EVERY_MS = 5_000;

export type FailOpenDependency = 'moderation' | 'cache';

/**
 * A side dependency that failed and was gone around (fail open): counted in gw_ingress_fail_open_total, and
 * logged at most every 5 s per dependency, so an outage does not flood the log at the request rate.
 */
@Injectable()
export class FailOpen {
  private readonly logger = new Logger('Chat');
  private readonly lastLog = new Map<FailOpenDependency, number>();

  constructor(private readonly metrics: MetricsService) {}

  record(dependency: FailOpenDependency, err: unknown): void {
    this.metrics.failOpen.inc({ dependency });
    const now = Date.now();
    if (now - (this.lastLog.get(dependency) ?? 0) < LOG_EVERY_MS) return;
    this.lastLog.set(dependency, now);
    const why = err instanceof GatewayError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : 'unexpected error';
    this.logger.warn(`${dependency} unavailable, going on without it (fail open; logged at most every ${LOG_EVERY_MS} ms): ${why}`);
  }
}
