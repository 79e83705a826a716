import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from '../config/tokens.js';

/** Exact entries in Redis; the only code of the cache service that talks to Redis. Errors are thrown. */
@Injectable()
export class ExactRepository implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Connection errors (reconnects continue in the background) and recoveries. */
  onConnection(events: { error: (err: Error) => void; ready: () => void }): void {
    this.redis.on('error', events.error);
    this.redis.on('ready', events.ready);
  }

  async get(redisKey: string): Promise<string | null> {
    return this.redis.get(redisKey);
  }

  async set(redisKey: string, value: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(redisKey, value, 'EX', ttlSeconds);
  }

  /** Connects at boot; a Redis that is down does not stop the boot (lookups answer misses until it is back). */
  async onModuleInit(): Promise<void> {
    // A failed connect is also an 'error' event (logged once by the service's outage log); ioredis keeps
    // reconnecting in the background.
    await this.redis.connect().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }
}
