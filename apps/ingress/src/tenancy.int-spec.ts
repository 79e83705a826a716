import { randomBytes } from 'node:crypto';
import type { INestMicroservice } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contracts, HEADERS, RequestMeta, type ResultMeta } from '@gw/contracts';
import { open } from '@gw/secrets';
import { connectNats, HotClient } from '@gw/transport';
import { Budgets } from '@gw/budgets';
import { Redis } from 'ioredis';
import { LimitsService } from './limits/limits.service.js';
import {
  collect,
  freshDatabase,
  startIngress,
  startNats,
  startRouterControlDouble,
  startRouterDouble,
  type FreshDb,
  type Ingress,
  type PrivateNats,
  type RouterDouble,
} from './testing/harness.js';

/**
 * Tenancy through HTTP on TWO ingress replicas (in-process, same NATS, Postgres and Redis prefix): rate limits and
 * budgets hold across both, revocation is broadcast, finance keys stay out of /v1, models are key ∩ team,
 * credentials are sealed. The router is a double answering every request at once.
 */
let nats: PrivateNats;
let db: FreshDb;
let a: Ingress;
let b: Ingress;
let router: RouterDouble;
let control: INestMicroservice;
let redis: Redis;
const prefix = `gwtenancy${randomBytes(4).toString('hex')}`;
const ENCRYPTION_KEY = randomBytes(32).toString('hex');

beforeAll(async () => {
  [nats, db] = await Promise.all([
    startNats(),
    freshDatabase(process.env['POSTGRES_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres'),
  ]);
  const extra = {
    REDIS_URL: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: prefix,
    MODERATION_TIMEOUT_MS: '20',
    CACHE_TIMEOUT_MS: '20',
    GATEWAY_ENCRYPTION_KEY: ENCRYPTION_KEY,
  };
  a = await startIngress(nats.url, db.url, extra);
  b = await startIngress(nats.url, db.url, { ...extra, GATEWAY_MASTER_KEY: a.masterKey });
  const meta: ResultMeta = {
    providerId: 'simulator',
    model: 'm',
    attempts: [{ providerId: 'simulator', model: 'm', ok: true, latencyMs: 1 }],
  };
  router = await startRouterDouble(nats.url, async (_req, out) => {
    out.response(
      JSON.stringify({
        id: 'c',
        object: 'chat.completion',
        created: 1,
        model: 'm',
        choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
      }),
      { [HEADERS.result]: JSON.stringify(meta) },
    );
  });
  control = await startRouterControlDouble(nats.url);
  redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
});
afterAll(async () => {
  await Promise.all([a?.app.close(), b?.app.close()]);
  await router?.close();
  await control?.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await Promise.all([nats?.stop(), db?.drop()]);
});

type Json = Record<string, unknown> & {
  error?: { message: string; type: string; param: string | null; code: string };
};
async function call(
  base: Ingress,
  method: string,
  path: string,
  key: string,
  body?: unknown,
  raw?: string,
): Promise<{ status: number; body: Json; headers: Headers }> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base.url + path, {
    method,
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {}, headers: res.headers };
}
const admin = (method: string, path: string, body?: unknown) => call(a, method, path, a.masterKey, body);
const chat = (on: Ingress, key: string, extra: Record<string, unknown> = {}) =>
  call(on, 'POST', '/v1/chat/completions', key, {
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 10,
    ...extra,
  });

async function team(body: Record<string, unknown> = {}): Promise<string> {
  const r = await admin('POST', '/admin/v1/teams', { name: `t-${randomBytes(4).toString('hex')}`, ...body });
  expect(r.status).toBe(201);
  return r.body['id'] as string;
}
async function key(teamId: string, body: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const r = await admin('POST', '/admin/v1/keys', { teamId, name: 'k', ...body });
  expect(r.status).toBe(201);
  return { id: r.body['id'] as string, key: r.body['key'] as string };
}

describe('rate limits across two replicas', () => {
  it('a 10 requests-per-minute key admits exactly 10 of 30 spread over both, with headers and retry-after', async () => {
    const k = await key(await team(), { rpm: 10 });
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => chat(i % 2 ? a : b, k.key)));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(10);
    expect(ok.every((r) => r.headers.get('x-ratelimit-limit-requests') === '10')).toBe(true);
    expect(
      ok.map((r) => Number(r.headers.get('x-ratelimit-remaining-requests'))).sort((x, y) => x - y),
    ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const limited = results.filter((r) => r.status === 429);
    expect(limited).toHaveLength(20);
    const first = limited[0]!;
    expect(first.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(Number(first.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('0');
  });

  it('a team tpm limit counts prompt + max_tokens; a per-model limit applies to that model only', async () => {
    const t = await team({ tpm: 100, modelLimits: { 'sim-small': { rpm: 1 } } });
    const k = await key(t);
    const big = await chat(a, k.key, { max_tokens: 500 });
    expect(big.status).toBe(429);
    expect(big.body.error?.message).toContain('tokens per minute');
    const small = await chat(a, k.key, { max_tokens: 20 });
    expect(small.status).toBe(200);
    expect(small.headers.get('x-ratelimit-remaining-tokens')).not.toBeNull();
    expect((await chat(b, k.key, { model: 'sim-small', max_tokens: 5 })).status).toBe(200);
    expect((await chat(a, k.key, { model: 'sim-small', max_tokens: 5 })).status).toBe(429);
  });
});

describe('limits and the exact cache', () => {
  it('a stored answer is not served past a limit: the refusal wins over a hit (the GET overlaps the admission)', async () => {
    const t = await team();
    const limited = await key(t, { rpm: 1 });
    const free = await key(t);
    const body = { temperature: 0, messages: [{ role: 'user', content: `cache vs limit ${randomBytes(4).toString('hex')}` }] };
    const first = await chat(a, limited.key, body);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-gateway-cache')).toBe('miss');
    // the same team's other key gets the stored answer once the store (after the response) has landed
    let hit = '';
    for (let i = 0; i < 50 && hit !== 'hit'; i++) {
      const r = await chat(b, free.key, body);
      expect(r.status).toBe(200);
      hit = r.headers.get('x-gateway-cache') ?? '';
      if (hit !== 'hit') await new Promise((res) => setTimeout(res, 20));
    }
    expect(hit).toBe('hit');
    const again = await chat(a, limited.key, body);
    expect(again.status).toBe(429);
    expect(again.body.error?.code).toBe('rate_limit_exceeded');
    expect(again.headers.get('x-gateway-cache')).toBeNull();
  });
});

describe('embeddings are admitted like chat', () => {
  const embed = (on: Ingress, k: string) => call(on, 'POST', '/v1/embeddings', k, { model: 'gpt-4o-mini', input: 'hello' });
  it('a 1 rpm key: the second embeddings request on the other replica is 429 rate_limit_exceeded', async () => {
    const k = await key(await team(), { rpm: 1 });
    // admitted (no embeddings responder in this file: what follows admission does not matter here)
    expect((await embed(a, k.key)).status).not.toBe(429);
    const second = await embed(b, k.key);
    expect(second.status).toBe(429);
    expect(second.body.error).toMatchObject({ code: 'rate_limit_exceeded' });
  });
  it('a budget smaller than one embedding is 429 budget_exceeded before any call', async () => {
    const k = await key(await team(), { budgetUsd: 0.000000001 });
    const r = await embed(a, k.key);
    expect(r.status).toBe(429);
    expect(r.body.error).toMatchObject({ code: 'budget_exceeded' });
  });
});

describe('budgets', () => {
  it('200 parallel requests against a key budget that fits 20 worst cases: 20 pass, the rest 429 budget_exceeded', async () => {
    // the built-in config prices gpt-4o-mini; the worst case of this body is known to the ingress: read it back
    const t = await team();
    // rpm 50 keeps the probe near a limit, so no admission is taken ahead for it (ADR 0019): what it holds is one
    // request's worst case
    const probe = await key(t, { budgetUsd: 1, rpm: 50 });
    expect((await chat(a, probe.key)).status).toBe(200);
    const held = await new Budgets(redis, { prefix }).read('key', probe.id, 'total');
    const worst = held.reservedNanoUsd;
    expect(worst).toBeGreaterThan(0n);
    const usd = Number(worst * 20n) / 1e9;
    const k = await key(t, { budgetUsd: usd, budgetPeriod: 'monthly' });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => chat(i % 2 ? a : b, k.key)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(20);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(180);
    expect(refused[0]?.body.error).toMatchObject({ code: 'budget_exceeded', type: 'insufficient_quota' });
  });

  it('a key far from its limits: later requests take admissions made ahead, and tell the executor (gw-meta admissionId)', async () => {
    const k = await key(await team(), { budgetUsd: 1000, rpm: 100_000 });
    const metaOf = () => RequestMeta.parse(JSON.parse(router.requests.at(-1)!.headers!.get(HEADERS.meta)));
    expect((await chat(a, k.key)).status).toBe(200);
    expect(metaOf().admissionId).toBeUndefined(); // admitted under its own request id
    const pool = a.app.get(LimitsService).pool!;
    // the admissions ahead are taken in the background
    for (const end = Date.now() + 3_000; pool.stats().slots === 0 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
    const second = await chat(a, k.key, { messages: [{ role: 'user', content: 'hi again' }] }); // not a cache hit
    expect(second.status).toBe(200);
    expect(second.headers.get('x-ratelimit-limit-requests')).toBe('100000');
    expect(metaOf().admissionId).toMatch(/^slot-/); // billing settles its holds under this id
  });

  it('a team budget shared by 5 keys', async () => {
    const t = await team();
    const probe = await key(t, { budgetUsd: 1, rpm: 50 }); // one request's worst case held, as above
    await chat(a, probe.key);
    const worst = (await new Budgets(redis, { prefix }).read('key', probe.id, 'total')).reservedNanoUsd;
    const shared = await team({ budgetUsd: Number(worst * 20n) / 1e9, budgetPeriod: 'daily' });
    const keys = await Promise.all(Array.from({ length: 5 }, () => key(shared)));
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => chat(i % 2 ? a : b, keys[i % 5]!.key)),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(20);
  });
});

describe('keys', () => {
  it('revocation on one replica is refused by the other at once (NATS broadcast, not the 1 s TTL)', async () => {
    const k = await key(await team());
    expect((await chat(b, k.key)).status).toBe(200); // b caches the key
    expect((await admin('DELETE', `/admin/v1/keys/${k.id}`)).status).toBe(200);
    const until = Date.now() + 300;
    let status = 200;
    while (status === 200 && Date.now() < until) status = (await chat(b, k.key)).status;
    expect(status).toBe(401);
  });

  it('a finance key is 403 on /v1, an admin-only API stays closed to it', async () => {
    const k = await key(await team(), { role: 'finance' });
    const r = await chat(a, k.key);
    expect(r.status).toBe(403);
    expect(r.body.error?.code).toBe('permission_denied');
    expect((await call(a, 'GET', '/v1/models', k.key)).status).toBe(403);
    expect((await call(a, 'GET', '/admin/v1/teams', k.key)).status).toBe(403);
  });

  it('allowed models are the key ∩ team lists, in /v1/models and on requests', async () => {
    const t = await team({ models: ['gpt-4o-mini', 'sim-small'] });
    const k = await key(t, { models: ['sim-small', 'other'] });
    const models = await call(a, 'GET', '/v1/models', k.key);
    expect((models.body['data'] as Array<{ id: string }>).map((m) => m.id)).toEqual(['sim-small']);
    expect((await chat(a, k.key)).status).toBe(403);
    expect((await chat(a, k.key, { model: 'sim-small' })).status).toBe(200);
    // a team change reaches cached keys on every replica
    expect((await admin('PATCH', `/admin/v1/teams/${t}`, { models: ['gpt-4o-mini'] })).status).toBe(200);
    const until = Date.now() + 300;
    let status = 200;
    while (status === 200 && Date.now() < until)
      status = (await chat(b, k.key, { model: 'sim-small' })).status;
    expect(status).toBe(403);
  });
});

describe('admin API', () => {
  it('orgs: create, list, read, rename; a team in an org; GET /keys/:id', async () => {
    const org = await admin('POST', '/admin/v1/orgs', { name: `org-${randomBytes(3).toString('hex')}` });
    expect(org.status).toBe(201);
    const orgId = org.body['id'] as string;
    expect((await admin('GET', `/admin/v1/orgs/${orgId}`)).body['name']).toBe(org.body['name']);
    expect(
      (await admin('PATCH', `/admin/v1/orgs/${orgId}`, { name: `${String(org.body['name'])}-x` })).body[
        'name'
      ],
    ).toMatch(/-x$/);
    expect(((await admin('GET', '/admin/v1/orgs')).body['data'] as unknown[]).length).toBeGreaterThan(0);
    const t = await team({ orgId });
    expect(
      ((await admin('GET', `/admin/v1/teams?orgId=${orgId}`)).body['data'] as Array<{ id: string }>).map(
        (x) => x.id,
      ),
    ).toEqual([t]);
    const k = await key(t, { maxConcurrent: 3, modelLimits: { m: { rpm: 2 } } });
    const read = await admin('GET', `/admin/v1/keys/${k.id}`);
    expect(read.body).toMatchObject({ id: k.id, maxConcurrent: 3, modelLimits: { m: { rpm: 2 } } });
    expect(read.body['key']).toBeUndefined();
    expect((await admin('GET', '/admin/v1/keys/nope')).status).toBe(404);
  });

  it('bad input is a 400 that says what is wrong, and nothing is half-created', async () => {
    const teamsBefore = ((await admin('GET', '/admin/v1/teams')).body['data'] as unknown[]).length;
    const keysBefore = ((await admin('GET', '/admin/v1/keys')).body['data'] as unknown[]).length;
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/admin/v1/keys', { teamId: 'team_unknown', name: 'k' }, 'unknown team'],
      ['POST', '/admin/v1/teams', { name: 'neg', budgetUsd: -5 }, 'budgetUsd'],
      ['POST', '/admin/v1/teams', { name: 'unk', colour: 'red' }, 'unknown field: colour'],
      ['POST', '/admin/v1/teams', { name: 'org', orgId: 'org_unknown' }, 'unknown organization'],
      ['POST', '/admin/v1/teams', { name: 'ml', modelLimits: { m: { rpm: -1 } } }, 'modelLimits'],
    ];
    for (const [method, path, body, says] of cases) {
      const r = await admin(method, path, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error?.message).toContain(says);
    }
    const malformed = await call(a, 'POST', '/admin/v1/teams', a.masterKey, undefined, '{"name": "x",');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error?.type).toBe('invalid_request_error');
    expect(((await admin('GET', '/admin/v1/teams')).body['data'] as unknown[]).length).toBe(teamsBefore);
    expect(((await admin('GET', '/admin/v1/keys')).body['data'] as unknown[]).length).toBe(keysBefore);
  });

  it('serves the OpenAPI document and a docs page', async () => {
    const spec = await fetch(`${a.url}/admin/docs/openapi.json`);
    expect(spec.status).toBe(200);
    expect(
      ((await spec.json()) as { paths: Record<string, unknown> }).paths['/admin/v1/keys/{id}'],
    ).toBeDefined();
    const page = await fetch(`${a.url}/admin/docs`);
    expect(page.headers.get('content-type')).toContain('text/html');
  });
});

describe('provider credentials', () => {
  it('are stored sealed, listed masked, rotated to a new active version, and old versions removed', async () => {
    const nc = await connectNats(nats.url, 'executor-double');
    const changes = collect<{ providerId: string }>(nc, contracts.executorCredentialsChanged.subject);
    await nc.flush();
    const v1 = await admin('POST', '/admin/v1/credentials', {
      providerId: 'openai',
      apiKey: 'sk-old-secret-1111',
    });
    expect(v1.status).toBe(201);
    expect(v1.body).toMatchObject({ providerId: 'openai', version: 1, active: true, apiKey: '…1111' });
    const v2 = await admin('POST', '/admin/v1/credentials', {
      providerId: 'openai',
      apiKey: 'sk-new-secret-2222',
    });
    expect(v2.body).toMatchObject({ version: 2, active: true });
    const list = await admin('GET', '/admin/v1/credentials');
    expect(JSON.stringify(list.body)).not.toContain('secret');
    expect(
      (list.body['data'] as Array<{ version: number; active: boolean }>).map((c) => [c.version, c.active]),
    ).toEqual([
      [2, true],
      [1, false],
    ]);
    const rows = new (await import('pg')).default.Client({ connectionString: db.url });
    await rows.connect();
    const stored = await rows.query<{ ciphertext: Buffer }>(
      'SELECT ciphertext FROM identity.provider_credentials',
    );
    await rows.end();
    expect(stored.rows.every((r) => !r.ciphertext.toString('utf8').includes('secret'))).toBe(true);
    // what executors fetch: the active version, still sealed; it opens with the shared key only
    const { credentials } = await new HotClient(nc).call(
      contracts.identityProviderCredentials,
      {},
      { timeoutMs: 2_000 },
    );
    expect(credentials.map((c) => [c.providerId, c.version])).toEqual([['openai', 2]]);
    expect(JSON.stringify(credentials)).not.toContain('secret');
    const c = credentials[0]!;
    const sealed = {
      ciphertext: Buffer.from(c.ciphertext, 'base64'),
      iv: Buffer.from(c.iv, 'base64'),
      authTag: Buffer.from(c.authTag, 'base64'),
    };
    expect(open(Buffer.from(ENCRYPTION_KEY, 'hex'), sealed, 'openai')).toBe('sk-new-secret-2222');
    expect((await admin('DELETE', '/admin/v1/credentials/openai/versions/1')).status).toBe(200);
    expect((await admin('GET', '/admin/v1/credentials')).body['data']).toHaveLength(1);
    expect((await admin('DELETE', '/admin/v1/credentials/openai/versions/1')).status).toBe(404);
    expect((await admin('POST', '/admin/v1/credentials', { providerId: 'openai' })).status).toBe(400);
    // the change events are NATS messages: the last may land just after the DELETE's answer
    for (const end = Date.now() + 2_000; changes.length < 3 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
    expect(changes.map((e) => e.providerId)).toEqual(['openai', 'openai', 'openai']); // v1, v2, removal of v1
    await nc.drain();
  });
});
