import type { OnApplicationShutdown } from '@nestjs/common';
import type { UpstreamRequest } from '@gw/providers';
import { Pool, type Dispatcher } from 'undici';

export type UpstreamResponse = Dispatcher.ResponseData;

/**
 * The executor's only HTTP client: one keep-alive undici Pool per upstream origin, created on first use and
 * reused; every request carries an AbortSignal (timeouts, deadline, client cancellation). Pools close on shutdown.
 */
export class UpstreamClient implements OnApplicationShutdown {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly connectionsPerOrigin = 256) {}

  private pool(origin: string): Pool {
    let p = this.pools.get(origin);
    if (!p) {
      p = new Pool(origin, { connections: this.connectionsPerOrigin, pipelining: 1, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 });
      this.pools.set(origin, p);
    }
    return p;
  }

  request(req: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse> {
    const url = new URL(req.url);
    return this.pool(url.origin).request({
      path: url.pathname + url.search,
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal,
    });
  }

  get origins(): number {
    return this.pools.size;
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.close().catch(() => p.destroy())));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
