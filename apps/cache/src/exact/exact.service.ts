import { Inject, Injectable, Logger } from '@nestjs/common';
import type { CacheLookupRequest, CacheLookupResult, CacheStoreEvent } from '@gw/contracts';
import { BurstLog } from '../common/burst-log.js';
import type { CacheEnv } from '../config/env.js';
import { CACHE_ENV } from '../config/tokens.js';
import { exactKey, fitsExactCache } from '@gw/exact-cache';
import { ExactRepository } from './exact.repository.js';

const MISS: CacheLookupResult = { hit: false };

/**
 * The exact cache: one GET per lookup, one SET EX per store, inside the caller's namespace only. It fails open:
 * when Redis is down a lookup is a miss and a store is dropped, and the outage is logged once per burst.
 */
@Injectable()
export class ExactService {
  private readonly logger = new Logger('ExactCache');
  private readonly outage = new BurstLog('redis (exact cache)', this.logger);
  private readonly prefix: string;
  private readonly maxValueBytes: number;

  constructor(
    @Inject(CACHE_ENV) env: CacheEnv,
    private readonly repo: ExactRepository,
  ) {
    this.prefix = env.REDIS_PREFIX;
    this.maxValueBytes = env.CACHE_MAX_VALUE_BYTES;
    repo.onConnection({ error: (err) => this.outage.failure(err), ready: () => this.outage.success() });
  }

  async lookup(req: CacheLookupRequest): Promise<CacheLookupResult> {
    let value: string | null;
    try {
      value = await this.repo.get(exactKey(this.prefix, req.namespace, req.key));
    } catch (err) {
      this.outage.failure(err);
      return MISS;
    }
    this.outage.success();
    return value === null ? MISS : { hit: true, value };
  }

  async store(ev: CacheStoreEvent): Promise<void> {
    if (!fitsExactCache(ev.value, this.maxValueBytes)) {
      this.logger.debug(`not stored: value over ${this.maxValueBytes} bytes (namespace ${ev.namespace})`);
      return;
    }
    try {
      await this.repo.set(exactKey(this.prefix, ev.namespace, ev.key), ev.value, ev.ttlSeconds);
      this.outage.success();
    } catch (err) {
      this.outage.failure(err);
    }
  }
}
