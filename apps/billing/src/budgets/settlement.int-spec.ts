import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Budgets } from '@gw/budgets';
import type { UsageEvent } from '@gw/contracts';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../config/env.js';
import { AlertSender } from './alert.sender.js';
import { SettlementService, type BudgetAlertBody } from './settlement.service.js';

// Real Redis, a fresh key prefix; the webhook is a local HTTP server that fails its first answer.
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const prefix = `gwsettle${randomBytes(4).toString('hex')}`;
let redis: Redis;
let server: Server;
let hookUrl = '';
const received: BudgetAlertBody[] = [];
let failNext = 1;
let service: SettlementService;

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      if (failNext > 0) {
        failNext--;
        res.writeHead(500).end();
        return;
      }
      received.push(JSON.parse(body) as BudgetAlertBody);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  hookUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/hook`;
  const env = loadEnv({
    GATEWAY_MASTER_KEY: 'x'.repeat(16),
    REDIS_URL,
    REDIS_PREFIX: prefix,
    BUDGET_ALERT_WEBHOOK_URL: hookUrl,
    BUDGET_ALERT_BACKOFF_MS: '20',
  });
  service = new SettlementService(env, new AlertSender(env));
});
afterAll(async () => {
  service.onApplicationShutdown();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await new Promise((r) => server.close(r));
});

function usage(requestId: string, costNanoUsd: bigint): UsageEvent {
  return {
    requestId,
    occurredAt: Date.now(),
    orgId: null,
    teamId: 'team_1',
    keyId: 'key_1',
    endUser: null,
    requestedModel: 'm',
    providerId: 'sim',
    model: 'm',
    inputTokens: 10,
    outputTokens: 5,
    cachedInputTokens: 0,
    costNanoUsd: costNanoUsd.toString(),
    latencyMs: 1,
    cacheStatus: 'miss',
    status: 'ok',
    errorCode: null,
    usageEstimated: false,
    stream: false,
    tags: {},
    attempts: 1,
    mode: 'live',
    routing: null,
  };
}

describe('settlement after the ledger commit', () => {
  it('settles reservations to the real cost once, and posts each threshold once to the webhook (retrying)', async () => {
    const ingress = new Budgets(redis, { prefix });
    const teamId = `team_${randomBytes(4).toString('hex')}`;
    const budget = { scope: 'team' as const, id: teamId, limitNanoUsd: 1_000n, period: 'monthly' as const };
    const ids = Array.from({ length: 4 }, (_, i) => `req-${i}-${randomBytes(4).toString('hex')}`);
    for (const id of ids) {
      expect(
        (
          await ingress.admit({
            requestId: id,
            nowMs: Date.now(),
            tokens: 20,
            amountNanoUsd: 250n,
            rates: [],
            budgets: [budget],
          })
        ).ok,
      ).toBe(true);
    }
    expect(await ingress.read('team', teamId, 'monthly')).toEqual({
      spentNanoUsd: 0n,
      reservedNanoUsd: 1_000n,
    });
    // a batch, then the same batch redelivered
    const batch = ids.slice(0, 3).map((id) => usage(id, 200n));
    await service.settle(batch);
    await service.settle(batch);
    expect(await service.reserved('team', teamId, 'monthly')).toEqual({
      spentNanoUsd: 600n,
      reservedNanoUsd: 250n,
    });
    await service.settle([usage(ids[3] ?? '', 400n)]);
    expect(await service.reserved('team', teamId, 'monthly')).toEqual({
      spentNanoUsd: 1_000n,
      reservedNanoUsd: 0n,
    });
    const until = Date.now() + 5_000;
    while (received.length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(received.map((a) => a.thresholdPct).sort((a, b) => a - b)).toEqual([50, 80, 100]);
    expect(received.find((a) => a.thresholdPct === 100)).toMatchObject({
      type: 'budget.threshold',
      scope: 'team',
      id: teamId,
      spentUsd: '0.000001000',
      budgetUsd: '0.000001000',
    });
    expect(failNext).toBe(0); // the first delivery failed and was retried
  });
});
