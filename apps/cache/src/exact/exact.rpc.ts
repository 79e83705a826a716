import { Injectable } from '@nestjs/common';
import type { CacheLookupRequest, CacheLookupResult, CacheStoreEvent } from '@gw/contracts';
import { Handles } from '@gw/transport';
import { ExactService } from './exact.service.js';

/** cache.rpc.lookup.v1 and cache.evt.store.v1 on the hot path (inputs validated by the HotServer). */
@Injectable()
export class ExactRpc {
  constructor(private readonly exact: ExactService) {}

  @Handles('cacheLookup')
  lookup(req: CacheLookupRequest): Promise<CacheLookupResult> {
    return this.exact.lookup(req);
  }

  @Handles('cacheStore')
  store(ev: CacheStoreEvent): Promise<void> {
    return this.exact.store(ev);
  }
}
