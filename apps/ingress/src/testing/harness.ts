import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload, type MicroserviceOptions } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { INestMicroservice } from '@nestjs/common';
import { contracts, ModelsListRequest, UsageEvent, type CancelEvent } from '@gw/contracts';
import { dropDatabase, ensureDatabase, migrate } from '@gw/db';
import { connectNats, decodeJson, HotServer, nestNatsOptions, type FrameWriter, type StreamRequest } from '@gw/transport';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Redis } from 'ioredis';
import { createIngressApp } from '../app.js';
import { loadEnv, type IngressEnv } from '../config/env.js';

/*
 * Test support for the ingress's integration tests (excluded from the build). Each test file gets a private
 * nats-server (real NATS + JetStream, its own port and store, so no other suite's services answer our subjects),
 * a fresh Postgres database with the migrations, and the ingress booted in-process on a free port.
 */

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

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export type PrivateNats = { url: string; stop(): Promise<void> };

export async function startNats(): Promise<PrivateNats> {
  const bin = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((p) => existsSync(p));
  if (!bin) throw new Error('nats-server is not installed (infra/local/up.sh installs it)');
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-ingress-nats-'));
  const proc: ChildProcess = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' });
  const until = Date.now() + 10_000;
  while (!(await tcpOpen(port))) {
    if (Date.now() > until) throw new Error('nats-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    async stop() {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type FreshDb = { url: string; drop(): Promise<void> };

/** `adminUrl`: a connection string to any database of the server (the spec reads POSTGRES_ADMIN_URL). */
export async function freshDatabase(adminUrl: string): Promise<FreshDb> {
  const name = `gw_ingress_${randomBytes(4).toString('hex')}`;
  const url = adminUrl.replace(/\/[^/]*$/, `/${name}`);
  await ensureDatabase(adminUrl, name);
  await migrate(url);
  return { url, drop: () => dropDatabase(adminUrl, name) };
}

export type Ingress = { app: NestFastifyApplication; url: string; env: IngressEnv; masterKey: string };

/** The ingress in-process; its exact-cache reads go to the real Redis under a REDIS_PREFIX of its own (env.REDIS_PREFIX). */
export async function startIngress(natsUrl: string, databaseUrl: string, extra: Record<string, string> = {}): Promise<Ingress> {
  const masterKey = `sk-master-${randomBytes(12).toString('hex')}`;
  // a fresh Redis prefix per ingress (a spec passes REDIS_PREFIX in `extra` to share one between replicas)
  const redis = { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: `gwingress${randomBytes(4).toString('hex')}` };
  const env = loadEnv({ NATS_URL: natsUrl, DATABASE_URL: databaseUrl, GATEWAY_MASTER_KEY: masterKey, LOG_LEVEL: 'error', ...redis, ...extra });
  const app = await createIngressApp(env);
  await app.listen(0, '127.0.0.1');
  const addr = app.getHttpServer().address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { app, env, masterKey, url: `http://127.0.0.1:${port}` };
}

/** Subscribes to a subject of the private NATS and collects the decoded messages. */
export function collect<T>(nc: NatsConnection, subject: string): T[] {
  const out: T[] = [];
  nc.subscribe(subject, {
    callback: (_e, m) => {
      out.push(decodeJson(m.data) as T);
    },
  });
  return out;
}

export function usageEvents(nc: NatsConnection): UsageEvent[] {
  const out: UsageEvent[] = [];
  nc.subscribe(contracts.billingUsage.subject, {
    callback: (_e, m) => {
      out.push(UsageEvent.parse(decodeJson(m.data)));
    },
  });
  return out;
}
export const cancelEvents = (nc: NatsConnection): CancelEvent[] => collect<CancelEvent>(nc, contracts.executorCancel.subject);

/** An exact-cache entry as the ingress stored it in Redis: namespace, key, value, and the TTL left (seconds). */
export type StoredEntry = { namespace: string; key: string; value: string; ttl: number };

/** The exact-cache entries under `prefix` (the ingress's REDIS_PREFIX), read back from the real Redis. */
export async function storedEntries(redis: Redis, prefix: string): Promise<StoredEntry[]> {
  const head = `${prefix}:cache:exact:`;
  const out: StoredEntry[] = [];
  for (const k of (await redis.keys(`${head}*`)).sort()) {
    const [ns, key] = k.slice(head.length).split(':');
    const [value, ttl] = await Promise.all([redis.get(k), redis.ttl(k)]);
    if (ns !== undefined && key !== undefined && value !== null) out.push({ namespace: decodeURIComponent(ns), key, value, ttl });
  }
  return out;
}

/** Waits until `read` resolves to a list of `n` entries, and returns it. */
export async function waitForEntries(read: () => Promise<StoredEntry[]>, n: number, timeoutMs = 3_000): Promise<StoredEntry[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const entries = await read();
    if (entries.length === n) return entries;
    if (Date.now() > until) throw new Error(`expected ${n} stored entries, found ${entries.length}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function waitUntil(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A peer that plays the router (and executor) over the hot path, per protocol.md. Our own test double. */
export type RouterDouble = { nc: NatsConnection; server: HotServer; requests: StreamRequest[]; close(): Promise<void> };

export async function startRouterDouble(natsUrl: string, handler: (req: StreamRequest, out: FrameWriter) => Promise<void>): Promise<RouterDouble> {
  const nc = await connectNats(natsUrl, 'router-double');
  const server = new HotServer(nc);
  const requests: StreamRequest[] = [];
  server.serveStream(contracts.routingChat, async (req, out) => {
    requests.push(req);
    await handler(req, out);
  });
  await nc.flush();
  return {
    nc,
    server,
    requests,
    async close() {
      await server.close();
      await nc.drain();
    },
  };
}

@Controller()
class RouterControlDouble {
  @MessagePattern(contracts.routerPing.subject)
  ping(): { service: string; at: number } {
    return { service: 'router', at: Date.now() };
  }

  @MessagePattern(contracts.routingListModels.subject)
  list(@Payload() body: unknown): { models: Array<{ id: string; ownedBy: string }> } {
    const all = [
      { id: 'gpt-4o-mini', ownedBy: 'simulator' },
      { id: 'sim-small', ownedBy: 'simulator' },
    ];
    const allowed = ModelsListRequest.parse(body).allowedModels;
    return { models: allowed ? all.filter((m) => allowed.includes(m.id)) : all };
  }
}
@Module({ controllers: [RouterControlDouble] })
class RouterControlModule {}

/** The router's control plane (ping, list-models) on Nest's NATS transport, as the real router serves it. */
export async function startRouterControlDouble(natsUrl: string): Promise<INestMicroservice> {
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(RouterControlModule, {
    ...nestNatsOptions({ service: 'router', url: natsUrl }),
    logger: ['error'],
  });
  await app.listen();
  return app;
}
