import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createConnection, createServer } from 'node:net';
import type { INestApplicationContext } from '@nestjs/common';
import { contracts, GatewayError } from '@gw/contracts';
import { bootstrapMicroservice, connectNats, ControlClient, HotClient } from '@gw/transport';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppModule } from '../app.module.js';
import { loadEnv } from '../config/env.js';

/*
 * The moderation service booted in-process (bootstrapMicroservice, as main.ts does) on a private nats-server:
 * the contract subjects are fixed, so a private server keeps another moderation service on this machine from
 * answering these calls.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let nats: ChildProcess;
let natsUrl: string;
let client: NatsConnection;
let hot: HotClient;
const dir = mkdtempSync(path.join(tmpdir(), 'gw-moderation-int-'));

beforeAll(async () => {
  ({ child: nats, url: natsUrl } = await startNatsServer());
  client = await connectNats(natsUrl, 'moderation-int-spec');
  hot = new HotClient(client);
});

afterAll(async () => {
  await client?.close();
  nats?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

async function boot(configYaml?: string): Promise<INestApplicationContext> {
  const raw: Record<string, string> = { NATS_URL: natsUrl, LOG_LEVEL: 'warn' };
  if (configYaml !== undefined) {
    const file = path.join(dir, `gateway-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, configYaml);
    raw['GATEWAY_CONFIG'] = file;
  }
  const env = loadEnv(raw);
  return bootstrapMicroservice(AppModule.forRoot(env), { service: 'moderation', natsUrl: env.NATS_URL, logLevel: env.LOG_LEVEL });
}

const check = (body: string) =>
  hot.call(contracts.moderationCheckInput, { requestId: 'req-int', teamId: 'team-1', body }, { timeoutMs: 2_000, requestId: 'req-int' });

const chat = (content: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra });

describe('moderation with the built-in config (cards: redact)', () => {
  let app: INestApplicationContext;
  beforeAll(async () => {
    app = await boot();
  });
  afterAll(async () => app?.close());

  it('answers its ping on the control plane', async () => {
    expect((await app.get(ControlClient).send(contracts.moderationPing, {})).service).toBe('moderation');
  });

  it('allows a clean body', async () => {
    expect(await check(chat('What is the capital of France?'))).toEqual({ action: 'allow', findings: [] });
  });

  it('redacts card numbers in content and text parts, and leaves other fields as they were', async () => {
    const body = chat(
      [
        { type: 'text', text: 'my cards: 4111 1111 1111 1111 and 5500-0000-0000-0004' },
        { type: 'text', text: 'amex 378282246310005, not a card 4111 1111 1111 1112' },
      ],
      { user: '4111111111111111' },
    );
    const r = await check(body);
    expect(r.action).toBe('redact');
    expect(r.findings).toEqual([{ detector: 'card_number', count: 3 }]);
    expect(JSON.parse(r.body!)).toEqual({
      model: 'gpt-4o-mini',
      user: '4111111111111111',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'my cards: [REDACTED:card] and [REDACTED:card]' },
            { type: 'text', text: 'amex [REDACTED:card], not a card 4111 1111 1111 1112' },
          ],
        },
      ],
    });
  });

  it('answers INVALID_REQUEST for a malformed request', async () => {
    const err = await hot
      .call(contracts.moderationCheckInput, { requestId: 'r', teamId: null } as never, { timeoutMs: 2_000 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('INVALID_REQUEST');
  });
});

describe('moderation with cardNumbers: block', () => {
  let app: INestApplicationContext;
  beforeAll(async () => {
    app = await boot('moderation:\n  cardNumbers: block\n');
  });
  afterAll(async () => app?.close());

  it('blocks a body with a card number, with a reason', async () => {
    const r = await check(chat('charge 4111-1111-1111-1111'));
    expect(r.action).toBe('block');
    expect(r.findings).toEqual([{ detector: 'card_number', count: 1 }]);
    expect(r.reason).toMatch(/payment card number/);
    expect(r.body).toBeUndefined();
  });

  it('allows a body whose only long number fails Luhn', async () => {
    expect(await check(chat('charge 4111-1111-1111-1112'))).toEqual({ action: 'allow', findings: [] });
  });
});

describe('moderation with cardNumbers: off', () => {
  let app: INestApplicationContext;
  beforeAll(async () => {
    app = await boot('moderation:\n  cardNumbers: off\n');
  });
  afterAll(async () => app?.close());

  it('allows card numbers', async () => {
    expect(await check(chat('charge 4111-1111-1111-1111'))).toEqual({ action: 'allow', findings: [] });
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
