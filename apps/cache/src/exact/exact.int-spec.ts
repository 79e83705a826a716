import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, createConnection } from 'node:net';
import { ConsoleLogger, type INestApplicationContext } from '@nestjs/common';
import { contracts, GatewayError } from '@gw/contracts';
import { bootstrapMicroservice, connectNats, ControlClient, HotClient } from '@gw/transport';
import type { NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { AppModule } from '../app.module.js';
import { loadEnv } from '../config/env.js';
import { exactKey } from '@gw/exact-cache';

/*
 * The cache service booted in-process (bootstrapMicroservice, as main.ts does) against the real Redis and a
 * private nats-server on a free port: the contract subjects are fixed, so a private server keeps a cache
 * service running elsewhere on the machine from answering these calls.
 */

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const prefix = `gwtest${randomBytes(4).toString('hex')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let nats: ChildProcess;
let natsUrl: string;
let client: NatsConnection;
let hot: HotClient;
let redis: Redis;

beforeAll(async () => {
  ({ child: nats, url: natsUrl } = await startNatsServer());
  client = await connectNats(natsUrl, 'cache-int-spec');
  hot = new HotClient(client);
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  await client?.close();
  nats?.kill('SIGTERM');
});

async function boot(env: Record<string, string>): Promise<INestApplicationContext> {
  const e = loadEnv({ NATS_URL: natsUrl, REDIS_URL, REDIS_PREFIX: prefix, LOG_LEVEL: 'warn', ...env });
  return bootstrapMicroservice(AppModule.forRoot(e), { service: 'cache', natsUrl: e.NATS_URL, logLevel: e.LOG_LEVEL });
}

const lookup = (namespace: string, key: string) => hot.call(contracts.cacheLookup, { namespace, key }, { timeoutMs: 2_000 });

/** Waits until the lookup hits (a store is an event: it lands shortly after the emit). */
async function eventuallyHit(namespace: string, key: string): Promise<string | undefined> {
  for (let i = 0; i < 100; i++) {
    const r = await lookup(namespace, key);
    if (r.hit) return r.value;
    await sleep(20);
  }
  return undefined;
}

describe('cache service with Redis up', () => {
  let app: INestApplicationContext;
  beforeAll(async () => {
    app = await boot({ CACHE_MAX_VALUE_BYTES: '1024' });
  });
  afterAll(async () => app?.close());

  it('answers its ping on the control plane', async () => {
    const r = await app.get(ControlClient).send(contracts.cachePing, {});
    expect(r.service).toBe('cache');
  });

  it('misses a key never stored', async () => {
    expect(await lookup('team-miss', 'f'.repeat(64))).toEqual({ hit: false });
  });

  it('stores then hits, with the value as stored, under the documented Redis key and TTL', async () => {
    const value = JSON.stringify({ id: 'chatcmpl-1', choices: [{ message: { content: 'héllo' } }] });
    hot.emit(contracts.cacheStore, { namespace: 'team-a', key: 'k-store', value, ttlSeconds: 600 });
    expect(await eventuallyHit('team-a', 'k-store')).toBe(value);
    const ttl = await redis.ttl(`${prefix}:cache:exact:team-a:k-store`);
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
  });

  it('never crosses namespaces: the same key in two namespaces holds two values', async () => {
    hot.emit(contracts.cacheStore, { namespace: 'team-a', key: 'shared', value: 'answer for a', ttlSeconds: 600 });
    expect(await eventuallyHit('team-a', 'shared')).toBe('answer for a');
    expect(await lookup('team-b', 'shared')).toEqual({ hit: false });
    hot.emit(contracts.cacheStore, { namespace: 'team-b', key: 'shared', value: 'answer for b', ttlSeconds: 600 });
    expect(await eventuallyHit('team-b', 'shared')).toBe('answer for b');
    expect(await lookup('team-a', 'shared')).toEqual({ hit: true, value: 'answer for a' });
    // a namespace holding the separator cannot reach into another one
    expect(await lookup('team-a:shared', 'x')).toEqual({ hit: false });
    expect(await lookup('team', 'a:shared')).toEqual({ hit: false });
  });

  it('expires an entry after its ttl', async () => {
    hot.emit(contracts.cacheStore, { namespace: 'team-ttl', key: 'short', value: 'v', ttlSeconds: 1 });
    expect(await eventuallyHit('team-ttl', 'short')).toBe('v');
    await sleep(1_100);
    expect(await lookup('team-ttl', 'short')).toEqual({ hit: false });
  });

  it('does not store a value over CACHE_MAX_VALUE_BYTES', async () => {
    hot.emit(contracts.cacheStore, { namespace: 'team-big', key: 'big', value: 'x'.repeat(1025), ttlSeconds: 600 });
    // stores are handled in order: once the later one is visible, the oversize one has been dealt with
    hot.emit(contracts.cacheStore, { namespace: 'team-big', key: 'small', value: 'x'.repeat(1024), ttlSeconds: 600 });
    expect(await eventuallyHit('team-big', 'small')).toHaveLength(1024);
    expect(await lookup('team-big', 'big')).toEqual({ hit: false });
    expect(await redis.exists(exactKey(prefix, 'team-big', 'big'))).toBe(0);
  });

  it('rejects an invalid lookup with INVALID_REQUEST and ignores an invalid store', async () => {
    const err = await hot.call(contracts.cacheLookup, { namespace: '', key: 'k' }, { timeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('INVALID_REQUEST');
    hot.emit(contracts.cacheStore, { namespace: 'team-bad', key: 'k', value: 'v', ttlSeconds: 0 });
    hot.emit(contracts.cacheStore, { namespace: 'team-bad', key: 'k2', value: 'v', ttlSeconds: 60 });
    expect(await eventuallyHit('team-bad', 'k2')).toBe('v');
    expect(await lookup('team-bad', 'k')).toEqual({ hit: false });
  });
});

describe('cache service with Redis down', () => {
  let app: INestApplicationContext;
  let warn: MockInstance<ConsoleLogger['warn']>;
  beforeAll(async () => {
    warn = vi.spyOn(ConsoleLogger.prototype, 'warn');
    app = await boot({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
  });
  afterAll(async () => {
    await app?.close();
    warn.mockRestore();
  });

  it('boots, answers every lookup with a miss, and logs the outage once (boot included) for the burst', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => lookup('team-down', `k${i}`)));
    expect(results.every((r) => r.hit === false)).toBe(true);
    hot.emit(contracts.cacheStore, { namespace: 'team-down', key: 'k', value: 'v', ttlSeconds: 60 });
    expect(await lookup('team-down', 'k')).toEqual({ hit: false });
    const redisWarnings = warn.mock.calls.filter((c) => String(c[0]).includes('redis'));
    expect(redisWarnings).toHaveLength(1);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}
const closedPort = freePort;

async function startNatsServer(): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
    env: { ...process.env, PATH: `${process.env['PATH'] ?? ''}:/usr/sbin:/usr/local/bin` },
  });
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const s = createConnection(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (open) return { child, url: `nats://127.0.0.1:${port}` };
    await sleep(50);
  }
  child.kill('SIGTERM');
  throw new Error('nats-server did not start');
}
