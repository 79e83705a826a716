import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import pg from 'pg';
import type { BillingEnv } from '../config/env.js';
import { BILLING_ENV, PG_POOL } from '../config/tokens.js';

/** One pg pool for the service: batch inserts, aggregates and export cursors all run on it. */
export const pgPoolProvider: Provider = {
  provide: PG_POOL,
  inject: [BILLING_ENV],
  useFactory: (env: BillingEnv): pg.Pool => {
    const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: env.DATABASE_POOL_SIZE, application_name: 'gw-billing' });
    // an idle client losing its connection must not crash the process; the next query reconnects
    pool.on('error', () => undefined);
    // nor a checked-out one (pg-pool drops its own listener on checkout): a Postgres restart between two statements
    // of a transaction emits 'error' on the client; the statement in flight or the next one fails instead, the
    // batch is rolled back and redelivered, and the pool discards the dead client on release
    pool.on('connect', (client) => client.on('error', () => undefined));
    return pool;
  },
};

@Injectable()
export class PgPoolLifecycle implements OnApplicationShutdown {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}
  async onApplicationShutdown(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
