import { Injectable, Logger } from '@nestjs/common';
import { GatewayError } from '@gw/contracts';
import { throttledWarn, WARN_EVERY_MS } from '../common/throttled-warn.js';
import { MetricsService } from '../metrics/metrics.service.js';

export type FailOpenDependency = 'moderation' | 'cache';

/**
 * A side dependency that failed and was gone around (fail open): counted in gw_ingress_fail_open_total, and
 * logged at most every 5 s per dependency, so an outage does not flood the log at the request rate.
 */
@Injectable()
export class FailOpen {
  private readonly logger = new Logger('Chat');
  private readonly warn: Record<FailOpenDependency, (message: string) => void> = {
    moderation: throttledWarn(this.logger),
    cache: throttledWarn(this.logger),
  };

  constructor(private readonly metrics: MetricsService) {}

  record(dependency: FailOpenDependency, err: unknown): void {
    this.metrics.failOpen.inc({ dependency });
    const why = err instanceof GatewayError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : 'unexpected error';
    this.warn[dependency](`${dependency} unavailable, going on without it (fail open; logged at most every ${WARN_EVERY_MS} ms): ${why}`);
  }
}
