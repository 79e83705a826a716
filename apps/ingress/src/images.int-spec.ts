import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { INestMicroservice } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Budgets } from '@gw/budgets';
import { HEADERS, RequestMeta, type ResultMeta, type UsageEvent } from '@gw/contracts';
import { exactKey } from '@gw/exact-cache';
import { connectNats } from '@gw/transport';
import { Redis } from 'ioredis';
import type { NatsConnection } from '@nats-io/transport-node';
import { chatCacheKey } from './chat/cache-key.js';
import {
  freshDatabase,
  startIngress,
  startNats,
  startRouterControlDouble,
  startRouterDouble,
  usageEvents,
  waitUntil,
  type FreshDb,
  type Ingress,
  type PrivateNats,
  type RouterDouble,
} from './testing/harness.js';

/**
 * Input images through HTTP (the ingress in-process, a private nats-server, a fresh database, the real Redis under
 * a prefix of its own, a router double): counted once on the internal request whatever the wire format, carried in
 * gw-meta to the executor, on the ingress's own usage events (cache hit, block), and reserved against budgets at
 * the model's perImage.
 */
let nats: PrivateNats;
let db: FreshDb;
let ingress: Ingress;
let router: RouterDouble;
let control: INestMicroservice;
let peers: NatsConnection;
let usage: UsageEvent[];
let teamId: string;
let key: string;
const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const prefix = `gwimages${randomBytes(4).toString('hex')}`;
const dir = mkdtempSync(path.join(tmpdir(), 'gw-ingress-images-'));
const PER_IMAGE_NANO = 10_000_000n; // 0.01 USD; tokens are free, so a reservation is images × perImage exactly
const config = {
  providers: [{ id: 'vis', type: 'openai-compatible', baseUrl: 'http://127.0.0.1:1/v1' }],
  models: [{ name: 'vision', maxOutputTokens: 100, targets: [{ provider: 'vis', model: 'vision-up', price: { inputPerMTok: 0, outputPerMTok: 0, perImage: 0.01 } }] }],
  moderation: { cardNumbers: 'block' },
};
const VISA = '4111 1111 1111 1111';
const ANSWER = JSON.stringify({
  id: 'c',
  object: 'chat.completion',
  created: 1,
  model: 'vision-up',
  choices: [{ index: 0, message: { role: 'assistant', content: 'a cat' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 30, completion_tokens: 2, total_tokens: 32 },
});
const image = (n: number) => ({ type: 'image_url', image_url: { url: `https://img.test/${n}.png` } });
const visionChat = (images: number, text = 'what is in these?') => ({
  model: 'vision',
  max_tokens: 10,
  messages: [{ role: 'user', content: [{ type: 'text', text }, ...Array.from({ length: images }, (_, i) => image(i))] }],
});

beforeAll(async () => {
  [nats, db] = await Promise.all([startNats(), freshDatabase(process.env['POSTGRES_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres')]);
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, JSON.stringify(config)); // YAML is a superset of JSON
  ingress = await startIngress(nats.url, db.url, { GATEWAY_CONFIG: file, REDIS_PREFIX: prefix, REQUEST_TIMEOUT_MS: '3000' });
  const meta: ResultMeta = { providerId: 'vis', model: 'vision-up', attempts: [{ providerId: 'vis', model: 'vision-up', ok: true, latencyMs: 1 }] };
  router = await startRouterDouble(nats.url, async (_req, out) => {
    out.response(ANSWER, { [HEADERS.result]: JSON.stringify(meta) });
  });
  control = await startRouterControlDouble(nats.url);
  peers = await connectNats(nats.url, 'images-peers');
  usage = usageEvents(peers);
  teamId = (await admin('/admin/v1/teams', { name: 'images-team' }))['id']!;
  key = (await admin('/admin/v1/keys', { teamId, name: 'images' }))['key']!;
});

afterAll(async () => {
  await ingress?.app.close();
  await router?.close();
  await control?.close();
  await peers?.drain();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  await Promise.all([nats?.stop(), db?.drop()]);
  rmSync(dir, { recursive: true, force: true });
});

async function admin(route: string, body: unknown): Promise<Record<string, string>> {
  const r = await fetch(ingress.url + route, { method: 'POST', headers: { authorization: `Bearer ${ingress.masterKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(r.status).toBe(201);
  return (await r.json()) as Record<string, string>;
}
function post(route: string, body: unknown, requestId: string, k = key): Promise<Response> {
  return fetch(ingress.url + route, {
    method: 'POST',
    headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-request-id': requestId },
    body: JSON.stringify(body),
  });
}
/** gw-meta of the request the router double received for this request id. */
function metaOf(requestId: string): RequestMeta | undefined {
  const req = router.requests.find((r) => r.headers?.get(HEADERS.requestId) === requestId);
  return req ? RequestMeta.parse(JSON.parse(req.headers!.get(HEADERS.meta))) : undefined;
}
async function usageOf(requestId: string): Promise<UsageEvent> {
  await waitUntil(() => usage.some((u) => u.requestId === requestId));
  return usage.find((u) => u.requestId === requestId)!;
}

describe('input images at the ingress', () => {
  it('/v1/chat/completions: the image_url parts are counted once and carried to the executor in gw-meta', async () => {
    const id = `img-chat-${prefix}`;
    expect((await post('/v1/chat/completions', visionChat(3), id)).status).toBe(200);
    expect(metaOf(id)).toMatchObject({ requestId: id, inputImages: 3 });
    const text = `img-text-${prefix}`;
    expect((await post('/v1/chat/completions', { model: 'vision', messages: [{ role: 'user', content: 'no pictures' }] }, text)).status).toBe(200);
    expect(metaOf(text)).toMatchObject({ inputImages: 0 });
  });

  it('/v1/messages: Anthropic image blocks (base64 and url) are counted after translation, like image_url parts', async () => {
    const id = `img-msg-${prefix}`;
    const body = {
      model: 'vision',
      max_tokens: 10,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'image', source: { type: 'url', url: 'https://img.test/a.png' } },
            { type: 'text', text: 'compare them' },
          ],
        },
      ],
    };
    expect((await post('/v1/messages', body, id)).status).toBe(200);
    expect(metaOf(id)).toMatchObject({ inputImages: 2 });
  });

  it('the ingress\'s own usage events carry the count: a cache hit (billing prices its saving) and a block', async () => {
    const body = { ...visionChat(2), temperature: 0 };
    await redis.set(exactKey(prefix, teamId, chatCacheKey(body)), ANSWER, 'EX', 60);
    const hit = `img-hit-${prefix}`;
    const res = await post('/v1/chat/completions', body, hit);
    expect(res.headers.get('x-gateway-cache')).toBe('hit');
    expect(metaOf(hit)).toBeUndefined(); // never routed
    expect(await usageOf(hit)).toMatchObject({ cacheStatus: 'hit', inputImages: 2, inputTokens: 30, costNanoUsd: '0' });

    const blocked = `img-block-${prefix}`;
    expect((await post('/v1/chat/completions', visionChat(4, `my card is ${VISA}`), blocked)).status).toBe(403);
    expect(await usageOf(blocked)).toMatchObject({ status: 'error', errorCode: 'MODERATION_BLOCKED', inputImages: 4, costNanoUsd: '0' });
  });

  it('a budget reserves images × perImage: images cannot overshoot it', async () => {
    const budgets = new Budgets(redis, { prefix });
    // 0.025 USD: two images (0.02) fit, three (0.03) do not; text costs nothing here
    const k1 = await admin('/admin/v1/keys', { teamId, name: 'budget-1', budgetUsd: 0.025 });
    expect((await post('/v1/chat/completions', visionChat(2), `img-b1-${prefix}`, k1['key'])).status).toBe(200);
    expect((await budgets.read('key', k1['id']!, 'total')).reservedNanoUsd).toBe(2n * PER_IMAGE_NANO);

    const k2 = await admin('/admin/v1/keys', { teamId, name: 'budget-2', budgetUsd: 0.025 });
    const over = await post('/v1/chat/completions', visionChat(3), `img-b2-${prefix}`, k2['key']);
    expect(over.status).toBe(429);
    expect(((await over.json()) as { error: { code: string } }).error.code).toBe('budget_exceeded');
    expect(metaOf(`img-b2-${prefix}`)).toBeUndefined();
    expect((await post('/v1/chat/completions', visionChat(0), `img-b3-${prefix}`, k2['key'])).status).toBe(200);
  });
});
