import { createPrismaClient } from '@gw/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, startIngress, startNats, type FreshDb, type Ingress, type PrivateNats } from './testing/harness.js';

/** The admin API and authentication against a real Postgres (fresh database) and a private nats-server. */
let nats: PrivateNats;
let db: FreshDb;
let ingress: Ingress;

beforeAll(async () => {
  [nats, db] = await Promise.all([startNats(), freshDatabase(process.env['POSTGRES_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres')]);
  ingress = await startIngress(nats.url, db.url);
});
afterAll(async () => {
  await ingress?.app.close();
  await Promise.all([nats?.stop(), db?.drop()]);
});

type Json = Record<string, unknown> & { error?: { message: string; type: string; param: string | null; code: string } };

async function call(method: string, path: string, opts: { key?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: Json; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.key !== undefined) headers['authorization'] = `Bearer ${opts.key}`;
  let body: string | undefined;
  if (opts.raw !== undefined || opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = opts.raw ?? JSON.stringify(opts.body);
  }
  const res = await fetch(ingress.url + path, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {}, headers: res.headers };
}
const admin = (method: string, path: string, body?: unknown) => call(method, path, { key: ingress.masterKey, body });

function expectOpenAIError(r: { body: Json }, param?: string | null): void {
  expect(Object.keys(r.body)).toEqual(['error']);
  expect(Object.keys(r.body.error!).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(JSON.stringify(r.body)).not.toMatch(/at .*\.(ts|js):\d+/); // never a stack trace
  if (param !== undefined) expect(r.body.error!.param).toBe(param);
}

describe('admin API', () => {
  it('creates, reads, lists and patches teams; budgets come back as exact decimals', async () => {
    const created = await admin('POST', '/admin/v1/teams', { name: 'search', budgetUsd: 12.5, budgetPeriod: 'monthly', rpm: 60 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ object: 'team', name: 'search', budgetUsd: '12.500000000', budgetPeriod: 'monthly', rpm: 60, tpm: null });
    const id = created.body['id'] as string;
    expect((await admin('GET', `/admin/v1/teams/${id}`)).body).toMatchObject({ id, name: 'search' });
    const list = await admin('GET', '/admin/v1/teams');
    expect((list.body['data'] as Array<{ id: string }>).map((t) => t.id)).toContain(id);
    const patched = await admin('PATCH', `/admin/v1/teams/${id}`, { budgetUsd: null, tpm: 1000 });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ budgetUsd: null, tpm: 1000, rpm: 60 });
    const missing = await admin('GET', '/admin/v1/teams/team_nope');
    expect(missing.status).toBe(404);
    expectOpenAIError(missing);
  });

  it('rejects bad bodies with a 400 that names the problem', async () => {
    const unknownField = await admin('POST', '/admin/v1/teams', { name: 'x', colour: 'red' });
    expect(unknownField.status).toBe(400);
    expectOpenAIError(unknownField, 'colour');
    expect(unknownField.body.error!.message).toContain('colour');
    const negative = await admin('POST', '/admin/v1/teams', { name: 'x', budgetUsd: -5 });
    expect(negative.status).toBe(400);
    expectOpenAIError(negative, 'budgetUsd');
    const malformed = await call('POST', '/admin/v1/teams', { key: ingress.masterKey, raw: '{"name": ' });
    expect(malformed.status).toBe(400);
    expectOpenAIError(malformed);
    expect(malformed.body.error!.message).toMatch(/not valid JSON/);
    const noBody = await call('POST', '/admin/v1/teams', { key: ingress.masterKey });
    expect(noBody.status).toBe(400);
    expectOpenAIError(noBody);
    const unknownTeam = await admin('POST', '/admin/v1/keys', { teamId: 'team_nope', name: 'k' });
    expect(unknownTeam.status).toBe(400);
    expectOpenAIError(unknownTeam, 'teamId');
    await admin('POST', '/admin/v1/teams', { name: 'dup' });
    const dup = await admin('POST', '/admin/v1/teams', { name: 'dup' });
    expect(dup.status).toBe(409);
    expectOpenAIError(dup, 'name');
  });

  it('needs the master key or an admin key', async () => {
    expect((await call('GET', '/admin/v1/teams')).status).toBe(401);
    expect((await call('GET', '/admin/v1/teams', { key: 'sk-gw-wrong' })).status).toBe(401);
    const team = await admin('POST', '/admin/v1/teams', { name: 'ops' });
    const member = await admin('POST', '/admin/v1/keys', { teamId: team.body['id'], name: 'm' });
    const forbidden = await call('GET', '/admin/v1/teams', { key: member.body['key'] as string });
    expect(forbidden.status).toBe(403);
    expectOpenAIError(forbidden);
    const adminKey = await admin('POST', '/admin/v1/keys', { teamId: team.body['id'], name: 'a', role: 'admin' });
    expect((await call('GET', '/admin/v1/teams', { key: adminKey.body['key'] as string })).status).toBe(200);
  });

  it('creates a key shown once (stored hashed), lists, patches and revokes it: revocation bites within 1 s', async () => {
    const team = await admin('POST', '/admin/v1/teams', { name: 'keys-team' });
    const teamId = team.body['id'] as string;
    const created = await admin('POST', '/admin/v1/keys', { teamId, name: 'ci', models: ['gpt-4o-mini'], budgetUsd: 1, budgetPeriod: 'daily' });
    expect(created.status).toBe(201);
    const key = created.body['key'] as string;
    expect(key).toMatch(/^sk-gw-[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({ object: 'api_key', teamId, name: 'ci', role: 'member', models: ['gpt-4o-mini'], keyPrefix: key.slice(0, 12), budgetUsd: '1.000000000', revokedAt: null });
    const keyId = created.body['id'] as string;

    const list = await admin('GET', `/admin/v1/keys?teamId=${teamId}`);
    const listed = list.body['data'] as Array<Record<string, unknown>>;
    expect(listed.map((k) => k['id'])).toEqual([keyId]);
    expect(JSON.stringify(list.body)).not.toContain(key); // the secret is never shown again

    // the key works (GET /v1/models needs the router: 503 proves authentication passed, 401 would not)
    const before = await call('GET', '/v1/models', { key });
    expect(before.status).not.toBe(401);

    const patched = await admin('PATCH', `/admin/v1/keys/${keyId}`, { name: 'ci-2', rpm: 5 });
    expect(patched.body).toMatchObject({ name: 'ci-2', rpm: 5 });

    const revoked = await admin('DELETE', `/admin/v1/keys/${keyId}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body['revokedAt']).toEqual(expect.any(String));
    const after = await call('GET', '/v1/models', { key });
    expect(after.status).toBe(401);
    expectOpenAIError(after);
    expect(after.body.error!.code).toBe('invalid_api_key');
    expect((await admin('DELETE', '/admin/v1/keys/key_nope')).status).toBe(404);
  });

  it('rejects expired keys, and keys revoked behind its back within a second', async () => {
    const team = await admin('POST', '/admin/v1/teams', { name: 'exp-team' });
    const teamId = team.body['id'] as string;
    const expired = await admin('POST', '/admin/v1/keys', { teamId, name: 'old', expiresAt: new Date(Date.now() - 1000).toISOString() });
    const r = await call('GET', '/v1/models', { key: expired.body['key'] as string });
    expect(r.status).toBe(401);
    expect(r.body.error!.message).toMatch(/expired/);

    // another replica revokes: simulate by writing the database directly, then wait out the key cache TTL
    const k = await admin('POST', '/admin/v1/keys', { teamId, name: 'other-replica' });
    const key = k.body['key'] as string;
    expect((await call('GET', '/v1/models', { headers: { 'x-api-key': key } })).status).not.toBe(401);
    const prisma = createPrismaClient(db.url, 1);
    await prisma.apiKey.update({ where: { id: k.body['id'] as string }, data: { revokedAt: new Date() } });
    await prisma.$disconnect();
    const revokedAt = Date.now();
    let status = 0;
    while (Date.now() - revokedAt < 1_500) {
      status = (await call('GET', '/v1/models', { headers: { 'x-api-key': key } })).status;
      if (status === 401) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(status).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThanOrEqual(1_100);
  });
});
