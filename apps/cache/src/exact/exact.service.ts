import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { CacheLookupRequest, CacheLookupResult, CacheStoreEvent } from '@gw/contracts';
import type { ExactCache } from '@gw/exact-cache';
import { BurstLog } from '../common/burst-log.js';
import { EXACT_CACHE } from '../config/tokens.js';

const MISS: CacheLookupResult = { hit: false };

/**
 * The exact cache for the callers on NATS: one GET per lookup, one SET EX per store, inside the caller's namespace
 * only, through the same `ExactCache` (key layout, size rule) the ingress uses in process (ADR 0013). It fails open:
 * when Redis is down a lookup is a miss and a store is dropped, and the outage is logged once per burst.
 */
@Injectable()
export class ExactService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ExactCache');
  private readonly outage = new BurstLog('redis (exact cache)', this.logger);

  constructor(@Inject(EXACT_CACHE) private readonly cache: ExactCache) {
    cache.onConnectionError((err) => this.outage.failure(err));
    cache.onReady(() => this.outage.success());
  }

  async lookup(req: CacheLookupRequest): Promise<CacheLookupResult> {
    let value: string | null;
    try {
      value = await this.cache.get(req.namespace, req.key);
    } catch (err) {
      this.outage.failure(err);
      return MISS;
    }
    this.outage.success();
    return value === null ? MISS : { hit: true, value };
  }

  async store(ev: CacheStoreEvent): Promise<void> {
    try {
      if (!(await this.cache.set(ev.namespace, ev.key, ev.value, ev.ttlSeconds))) {
        this.logger.debug(`not stored: value over the size limit (namespace ${ev.namespace})`);
        return;
      }
      this.outage.success();
    } catch (err) {
      this.outage.failure(err);
    }
  }

  /** Connects at boot; a Redis that is down does not stop the boot (lookups answer misses until it is back). */
  async onModuleInit(): Promise<void> {
    await this.cache.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.cache.close();
  }
}
