import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { INestMicroservice } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError, HEADERS, RequestMeta, type ChatCompletion, type ResultMeta } from '@gw/contracts';
import { exactKey } from '@gw/exact-cache';
import { CARD_REDACTION } from '@gw/guardrails';
import { connectNats, type FrameWriter, type StreamRequest } from '@gw/transport';
import { Redis } from 'ioredis';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  storedEntries,
  waitForEntries,
  cancelEvents,
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
 * POST /v1/chat/completions end to end through HTTP: the ingress in-process, a private nats-server, a fresh
 * database, the real Redis (exact-cache reads, under this ingress's own prefix), the input guardrails in process,
 * and test doubles of the router/executor (frames per protocol.md).
 */
let nats: PrivateNats;
let db: FreshDb;
let ingress: Ingress;
let router: RouterDouble;
let control: INestMicroservice | null = null;
let peers: NatsConnection;
let key: string;
let teamId: string;
let keyId: string;
let limitedKey: string;
const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
/** An exact-cache entry written where the cache service would write it (the ingress only reads). */
const plant = (namespace: string, key: string, value: string) => redis.set(exactKey(ingress.env.REDIS_PREFIX, namespace, key), value, 'EX', 60);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function completion(model: string, content: string): ChatCompletion {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  };
}
function chunk(content: string | null, usage = false): string {
  return JSON.stringify({
    id: 'chatcmpl-s',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'upstream-model',
    choices: usage ? [] : [{ index: 0, delta: { content }, finish_reason: null }],
    ...(usage ? { usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } } : {}),
  });
}
const result = (latencyMs: number): Record<string, string> => {
  const r: ResultMeta = { providerId: 'simulator', model: 'upstream-model', attempts: [{ providerId: 'simulator', model: 'upstream-model', ok: true, latencyMs }] };
  return { [HEADERS.result]: JSON.stringify(r) };
};

/** The router + executor double: behaviour by requested model. */
async function fakeRouter(req: StreamRequest, out: FrameWriter): Promise<void> {
  const meta = RequestMeta.parse(JSON.parse(req.headers?.get(HEADERS.meta) ?? '{}'));
  const body = JSON.parse(new TextDecoder().decode(req.data)) as { messages: Array<{ content: string }> };
  switch (meta.model) {
    case 'gpt-4o-mini': {
      if (!meta.stream) {
        await sleep(20);
        out.response(JSON.stringify(completion('upstream-model', `echo: ${body.messages[0]?.content ?? ''}`)), result(20));
        return;
      }
      out.start(result(5));
      for (const c of ['Hel', 'lo', '!']) {
        await sleep(10);
        out.chunk(chunk(c));
      }
      if (meta.includeUsage) out.chunk(chunk(null, true));
      out.end();
      return;
    }
    case 'fail-model':
      out.error(new GatewayError('PROVIDER_ERROR', 'upstream said 500'));
      return;
    case 'fail-recorded':
      out.error(new GatewayError('PROVIDER_TIMEOUT', 'upstream too slow'), { [HEADERS.usageRecorded]: '1' });
      return;
    case 'fail-mid':
      out.start(result(1));
      out.chunk(chunk('partial'));
      await sleep(10);
      out.error(new GatewayError('PROVIDER_ERROR', 'connection reset'));
      return;
    case 'stall':
      out.start(result(1));
      out.chunk(chunk('one'));
      return; // goes silent
    case 'hang':
      out.start(result(1));
      out.chunk(chunk('forever'));
      return;
    case 'silent':
      return; // never answers
    default:
      out.error(new GatewayError('MODEL_NOT_FOUND', `unknown model ${meta.model}`));
  }
}

beforeAll(async () => {
  [nats, db] = await Promise.all([startNats(), freshDatabase(process.env['POSTGRES_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres')]);
  ingress = await startIngress(nats.url, db.url, { REQUEST_TIMEOUT_MS: '1500', STREAM_IDLE_TIMEOUT_MS: '400', MAX_BODY_BYTES: '65536' });
  router = await startRouterDouble(nats.url, fakeRouter);
  peers = await connectNats(nats.url, 'peer-doubles');

  const admin = async (path: string, body: unknown) => {
    const r = await fetch(ingress.url + path, { method: 'POST', headers: { authorization: `Bearer ${ingress.masterKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await r.json()) as Record<string, string>;
  };
  const team = await admin('/admin/v1/teams', { name: 'chat-team' });
  teamId = team['id']!;
  const k = await admin('/admin/v1/keys', { teamId, name: 'all-models', tags: { owner: 'qa' } });
  key = k['key']!;
  keyId = k['id']!;
  limitedKey = (await admin('/admin/v1/keys', { teamId, name: 'limited', models: ['sim-small'] }))['key']!;
});

afterAll(async () => {
  await control?.close();
  await router?.close();
  await peers?.drain();
  await ingress?.app.close();
  const planted = await redis.keys(`${ingress.env.REDIS_PREFIX}:*`);
  if (planted.length) await redis.del(...planted);
  await redis.quit();
  await Promise.all([nats?.stop(), db?.drop()]);
});

function post(body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${ingress.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}
const adminPost = (route: string, body: unknown): Promise<Response> =>
  fetch(ingress.url + route, { method: 'POST', headers: { authorization: `Bearer ${ingress.masterKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const hello = (content = 'hello', extra: Record<string, unknown> = {}) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra });
type ErrBody = { error: { message: string; type: string; param: string | null; code: string } };

describe('POST /v1/chat/completions', () => {
  it('answers a non-stream request, forwarding the exact bytes and the protocol headers', async () => {
    const raw = `{ "model":"gpt-4o-mini",  "messages":[{"role":"user","content":"hi there"}], "user":"alice", "seed": 7 }`;
    const before = router.requests.length;
    const res = await post(raw, { 'x-request-id': 'client-req-1', 'x-gateway-tags': 'feature=search' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.headers.get('x-request-id')).toBe('client-req-1');
    expect(res.headers.get('x-gateway-provider')).toBe('simulator');
    expect(res.headers.get('x-gateway-model')).toBe('upstream-model');
    expect(res.headers.get('x-gateway-cache')).toBe('miss');
    const overhead = Number(res.headers.get('x-gateway-overhead-ms'));
    expect(overhead).toBeGreaterThanOrEqual(0);
    expect(overhead).toBeLessThan(1000);
    const body = (await res.json()) as ChatCompletion;
    expect(body.choices[0]?.message.content).toBe('echo: hi there');

    const req = router.requests[before]!;
    expect(new TextDecoder().decode(req.data)).toBe(raw); // never re-serialised
    const h = req.headers!;
    expect(h.get(HEADERS.requestId)).toBe('client-req-1');
    expect(h.get(HEADERS.model)).toBe('gpt-4o-mini');
    expect(h.get(HEADERS.traceparent)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const meta = RequestMeta.parse(JSON.parse(h.get(HEADERS.meta)));
    expect(meta).toMatchObject({ requestId: 'client-req-1', model: 'gpt-4o-mini', stream: false, teamId, keyId, endUser: 'alice', allowedModels: null, cacheStatus: 'miss' });
    expect(meta.tags).toEqual({ owner: 'qa', feature: 'search' });
    expect(Number(h.get(HEADERS.deadline))).toBe(meta.deadlineAt);
    expect(meta.deadlineAt - meta.receivedAt).toBe(1500);
  });

  it('streams SSE chunk by chunk, with usage when asked, ending in [DONE]', async () => {
    const res = await post(hello('stream me', { stream: true, stream_options: { include_usage: true } }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('x-gateway-cache')).toBe('bypass');
    expect(res.headers.get('x-gateway-provider')).toBe('simulator');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const reader = res.body!.getReader();
    const arrivals: Array<{ at: number; text: string }> = [];
    const dec = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      arrivals.push({ at: Date.now(), text: dec.decode(value as Uint8Array) });
    }
    const text = arrivals.map((a) => a.text).join('');
    const events = text.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)) as { choices: Array<{ delta: { content: string } }>; usage?: unknown });
    expect(chunks.slice(0, 3).map((c) => c.choices[0]?.delta.content).join('')).toBe('Hello!');
    expect(chunks[3]).toMatchObject({ choices: [], usage: { total_tokens: 5 } });
    // relayed as they came (the double spaces them 10 ms apart), not buffered to the end
    expect(arrivals.length).toBeGreaterThan(1);
  });

  it('rejects bad requests with 400/401/403/404/413/415 in the OpenAI shape, and bills none of them', async () => {
    const usage = usageEvents(peers);
    const noMessages = await post({ model: 'gpt-4o-mini' });
    expect(noMessages.status).toBe(400);
    expect(((await noMessages.json()) as ErrBody).error).toMatchObject({ type: 'invalid_request_error', param: 'messages' });
    const badRole = await post({ model: 'gpt-4o-mini', messages: [{ role: 'wizard', content: 'x' }] });
    expect(badRole.status).toBe(400);
    expect(((await badRole.json()) as ErrBody).error.param).toMatch(/^messages\[0\]/);
    const badTemp = await post(hello('x', { temperature: 5 }));
    expect(((await badTemp.json()) as ErrBody).error).toMatchObject({ param: 'temperature' });
    const malformed = await post('{"model": "gpt-4o-mini", ');
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as ErrBody).error.message).toMatch(/not valid JSON/);
    const notObject = await post('[1,2]');
    expect(notObject.status).toBe(400);

    const noKey = await fetch(`${ingress.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(hello()) });
    expect(noKey.status).toBe(401);
    expect(((await noKey.json()) as ErrBody).error.code).toBe('invalid_api_key');
    const badKey = await post(hello(), { authorization: 'Bearer sk-gw-not-a-key' });
    expect(badKey.status).toBe(401);
    const viaXApiKey = await fetch(`${ingress.url}/v1/chat/completions`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify(hello()) });
    expect(viaXApiKey.status).toBe(200);
    await viaXApiKey.arrayBuffer();

    const notAllowed = await post(hello(), { authorization: `Bearer ${limitedKey}` });
    expect(notAllowed.status).toBe(403);
    expect(((await notAllowed.json()) as ErrBody).error).toMatchObject({ param: 'model', type: 'permission_error' });

    const tooBig = await post(hello('x'.repeat(70_000)));
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as ErrBody).error.code).toBe('payload_too_large');
    const wrongType = await post('hello', { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(415);
    expect(Object.keys((await wrongType.json()) as ErrBody)).toEqual(['error']);
    const unknown = await fetch(`${ingress.url}/v1/nothing-here`, { headers: { 'x-request-id': 'lost-1' } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-request-id')).toBe('lost-1');
    expect(tooBig.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(((await unknown.json()) as ErrBody).error.code).toBe('not_found');

    await sleep(100);
    expect(usage.filter((u) => u.keyId === keyId && u.status !== 'ok')).toEqual([]);
  });

  it('maps an error frame to its status and bills it only when the executor did not', async () => {
    const usage = usageEvents(peers);
    const failed = await post({ ...hello(), model: 'fail-model' }, { 'x-request-id': 'fail-1' });
    expect(failed.status).toBe(502);
    expect(((await failed.json()) as ErrBody).error).toMatchObject({ message: 'upstream said 500', type: 'server_error', code: 'provider_error' });
    const recorded = await post({ ...hello(), model: 'fail-recorded' }, { 'x-request-id': 'fail-2' });
    expect(recorded.status).toBe(504);
    await recorded.arrayBuffer();
    await waitUntil(() => usage.some((u) => u.requestId === 'fail-1'));
    await sleep(100);
    expect(usage.find((u) => u.requestId === 'fail-1')).toMatchObject({ status: 'error', errorCode: 'PROVIDER_ERROR', costNanoUsd: '0', teamId, keyId });
    expect(usage.some((u) => u.requestId === 'fail-2')).toBe(false);
  });

  it('ends a stream that fails after it started with an error event', async () => {
    const usage = usageEvents(peers);
    const res = await post({ ...hello(), model: 'fail-mid', stream: true }, { 'x-request-id': 'mid-1' });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^data: \{.*"partial".*\}\n\ndata: \{"error":\{"message":"connection reset","type":"server_error","param":null,"code":"provider_error"\}\}\n\n$/s);
    expect(text).not.toContain('[DONE]');
    await waitUntil(() => usage.some((u) => u.requestId === 'mid-1'));
  });

  it('ends a stream that goes silent with an error event after the idle timeout, and cancels it', async () => {
    const cancels = cancelEvents(peers);
    const res = await post({ ...hello(), model: 'stall', stream: true }, { 'x-request-id': 'stall-1' });
    const t = Date.now();
    const text = await res.text();
    expect(Date.now() - t).toBeLessThan(2_000);
    expect(text).toContain('"code":"deadline_exceeded"');
    await waitUntil(() => cancels.some((c) => c.requestId === 'stall-1'));
  });

  it('cancels the executor when the client goes away mid-stream', async () => {
    const cancels = cancelEvents(peers);
    const ctrl = new AbortController();
    const res = await post({ ...hello(), model: 'hang', stream: true }, { 'x-request-id': 'abort-1' }, ctrl.signal);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value as Uint8Array)).toContain('forever');
    ctrl.abort();
    await waitUntil(() => cancels.some((c) => c.requestId === 'abort-1'), 2_000);
    expect(cancels.find((c) => c.requestId === 'abort-1')?.reason).toBe('client closed');
  });

  it('answers 503 when no router answers in time, and cancels', async () => {
    const cancels = cancelEvents(peers);
    const usage = usageEvents(peers);
    const t = Date.now();
    const res = await post({ ...hello(), model: 'silent' }, { 'x-request-id': 'silent-1' });
    expect(res.status).toBe(503);
    expect(((await res.json()) as ErrBody).error.code).toBe('service_unavailable');
    expect(Date.now() - t).toBeGreaterThanOrEqual(1_400);
    expect(Date.now() - t).toBeLessThan(2_500);
    await waitUntil(() => cancels.some((c) => c.requestId === 'silent-1'));
    await waitUntil(() => usage.some((u) => u.requestId === 'silent-1'));
  });
});

describe('moderation and cache', () => {
  const VISA = '4111111111111111';

  it('blocks a card number with 403 content_policy_violation under the block policy, and bills it at cost 0', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gw-ingress-block-'));
    const config = path.join(dir, 'gateway.yaml');
    writeFileSync(config, 'moderation:\n  cardNumbers: block\n');
    const blocking = await startIngress(nats.url, db.url, { GATEWAY_CONFIG: config, REQUEST_TIMEOUT_MS: '1500' });
    try {
      const usage = usageEvents(peers);
      const before = router.requests.length;
      const res = await fetch(`${blocking.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': 'block-1' },
        body: JSON.stringify(hello(`my card is ${VISA}`)),
      });
      expect(res.status).toBe(403);
      expect(((await res.json()) as ErrBody).error).toMatchObject({ code: 'content_policy_violation', message: expect.stringContaining('card number') });
      expect(router.requests.length).toBe(before);
      await waitUntil(() => usage.some((u) => u.requestId === 'block-1'));
      expect(usage.find((u) => u.requestId === 'block-1')).toMatchObject({ status: 'error', errorCode: 'MODERATION_BLOCKED', costNanoUsd: '0' });
    } finally {
      await blocking.app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stores a miss in Redis, answers the same request from it (billed at 0), and lets a redaction win over a hit', async () => {
    const stored = () => storedEntries(redis, ingress.env.REDIS_PREFIX);
    const earlier = await redis.keys(`${ingress.env.REDIS_PREFIX}:cache:exact:*`); // the answers of the tests above
    if (earlier.length) await redis.del(...earlier);
    const usage = usageEvents(peers);
    const body = hello('cache me', { temperature: 0 });
    const first = await post(body, { 'x-request-id': 'cache-1' });
    expect(first.headers.get('x-gateway-cache')).toBe('miss');
    const firstText = await first.text();
    const [store] = await waitForEntries(stored, 1);
    expect(store).toMatchObject({ namespace: teamId, value: firstText });
    expect(store!.ttl).toBeGreaterThan(3590); // the config's ttlSeconds: 3600
    expect(store!.key).toMatch(/^[0-9a-f]{64}$/);

    const routed = router.requests.length;
    const second = await post({ messages: body.messages, temperature: 0, model: 'gpt-4o-mini', user: 'someone-else' }, { 'x-request-id': 'cache-2' });
    expect(second.status).toBe(200);
    expect(second.headers.get('x-gateway-cache')).toBe('hit');
    expect(second.headers.get('x-request-id')).toBe('cache-2');
    expect(await second.text()).toBe(firstText);
    expect(router.requests.length).toBe(routed);
    await waitUntil(() => usage.some((u) => u.requestId === 'cache-2'));
    expect(usage.find((u) => u.requestId === 'cache-2')).toMatchObject({ cacheStatus: 'hit', costNanoUsd: '0', providerId: null, status: 'ok', model: 'upstream-model', teamId, keyId });

    // another team's key never sees this team's entry
    const otherTeam = (await (await adminPost('/admin/v1/teams', { name: 'other-team' })).json()) as { id: string };
    const otherKey = ((await (await adminPost('/admin/v1/keys', { teamId: otherTeam.id, name: 'other' })).json()) as { key: string }).key;
    const foreign = await post(body, { authorization: `Bearer ${otherKey}` });
    expect(foreign.headers.get('x-gateway-cache')).toBe('miss');
    await foreign.text();

    // no-cache: the lookup is skipped (the stored answer is there, yet it is a miss), the answer is stored again
    await redis.expire(exactKey(ingress.env.REDIS_PREFIX, teamId, store!.key), 100);
    const noCache = await post(body, { 'x-gateway-cache': 'no-cache' });
    expect(noCache.headers.get('x-gateway-cache')).toBe('miss');
    await noCache.text();
    const restored = async () => (await stored()).filter((e) => e.namespace !== teamId || e.ttl > 3000);
    await waitForEntries(restored, 2); // this team's entry (stored again: full TTL) and the other team's

    // no-store: looked up (a hit here), never stored
    const noStore = await post(body, { 'x-gateway-cache': 'no-store' });
    expect(noStore.headers.get('x-gateway-cache')).toBe('hit');
    await noStore.text();
    const notStored = await post(hello('not stored', { temperature: 0 }), { 'x-gateway-cache': 'no-store' });
    expect(notStored.headers.get('x-gateway-cache')).toBe('miss');
    await notStored.text();
    await sleep(100);
    expect((await stored()).length).toBe(2);

    // a card number is redacted in process: a planted answer to the original text is not served, the redacted body is routed
    const card = hello(`my card ${VISA}`, { temperature: 0 });
    const { chatCacheKey } = await import('./chat/cache-key.js');
    await plant(teamId, chatCacheKey(card), JSON.stringify(completion('cached', 'stale')));
    const before = router.requests.length;
    const redacted = await post(card);
    expect(redacted.headers.get('x-gateway-cache')).toBe('bypass');
    expect(((await redacted.json()) as ChatCompletion).choices[0]?.message.content).toBe(`echo: my card ${CARD_REDACTION}`);
    expect(new TextDecoder().decode(router.requests[before]!.data)).not.toContain(VISA);
    await sleep(100);
    expect((await stored()).filter((e) => e.value.includes('echo: my card')).length).toBe(0);
    expect((await stored()).length).toBe(3); // the two answers and the planted one: the redacted answer is not stored
  });

  it('fails open when Redis is away: a miss, answered by the router, counted in gw_ingress_fail_open_total', async () => {
    const away = await startIngress(nats.url, db.url, { REDIS_URL: 'redis://127.0.0.1:1', REQUEST_TIMEOUT_MS: '1500' });
    try {
      const res = await fetch(`${away.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(hello('redis is away', { temperature: 0 })),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-gateway-cache')).toBe('miss');
      const metrics = await (await fetch(`${away.url}/metrics`)).text();
      expect(metrics).toMatch(/gw_ingress_fail_open_total\{dependency="cache"\} [1-9]/);
      // serving (fail open), but not ready: limits and budgets need Redis
      const ready = await fetch(`${away.url}/ready`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { failed: string[]; checks: { redis: { ok: boolean } } })).toMatchObject({ failed: expect.arrayContaining(['redis']), checks: { redis: { ok: false } } });
    } finally {
      await away.app.close();
    }
  });
});

describe('sampled requests', () => {
  it('are looked up and stored like any other non-stream request (temperature does not opt out)', async () => {
    const sampled = async () => (await storedEntries(redis, ingress.env.REDIS_PREFIX)).filter((e) => e.value === text);
    const res = await post(hello('sample me', { temperature: 0.9 }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-cache')).toBe('miss');
    const text = await res.text();
    await waitForEntries(sampled, 1);
    const again = await post(hello('sample me', { temperature: 0.9 }));
    expect(again.headers.get('x-gateway-cache')).toBe('hit');
    expect(await again.text()).toBe(text);
  });
});

describe('models, readiness, metrics', () => {
  it('/ready names the router while it is away, and is 200 once it answers; /v1/models lists the key’s models', async () => {
    const notReady = await fetch(`${ingress.url}/ready`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { failed: string[] }).failed).toEqual(['router']);
    const noRouter = await fetch(`${ingress.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(noRouter.status).toBe(503);
    expect(Object.keys((await noRouter.json()) as ErrBody)).toEqual(['error']);

    control = await startRouterControlDouble(nats.url);
    let ready: { status: number; body: unknown } = { status: 0, body: null };
    for (let i = 0; i < 20 && ready.status !== 200; i++) {
      const r = await fetch(`${ingress.url}/ready`);
      ready = { status: r.status, body: await r.json() };
      if (r.status !== 200) await sleep(100);
    }
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready', failed: [] } });

    const all = await fetch(`${ingress.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(await all.json()).toEqual({
      object: 'list',
      data: [
        { id: 'gpt-4o-mini', object: 'model', created: expect.any(Number), owned_by: 'simulator' },
        { id: 'sim-small', object: 'model', created: expect.any(Number), owned_by: 'simulator' },
      ],
    });
    const limited = await fetch(`${ingress.url}/v1/models`, { headers: { 'x-api-key': limitedKey } });
    expect(((await limited.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)).toEqual(['sim-small']);
    expect((await fetch(`${ingress.url}/v1/models`)).status).toBe(401);
    expect((await fetch(`${ingress.url}/health`)).status).toBe(200);
  });

  it('/metrics exposes requests by route and status, latency, overhead and in-flight', async () => {
    const res = await fetch(`${ingress.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/gw_ingress_requests_total\{route="\/v1\/chat\/completions",status="200"\} \d+/);
    expect(text).toMatch(/gw_ingress_requests_total\{route="\/v1\/chat\/completions",status="499"\} \d+/);
    expect(text).toContain('gw_ingress_request_duration_seconds_bucket');
    expect(text).toMatch(/gw_ingress_overhead_seconds_count \d+/);
    expect(text).toContain('gw_ingress_in_flight_requests');
  });

  it('answers 503 at once when nobody serves the route subject', async () => {
    await router.close();
    try {
      const usage = usageEvents(peers);
      const t = Date.now();
      const res = await post(hello('anyone?'), { 'x-request-id': 'nobody-1' });
      expect(res.status).toBe(503);
      expect(((await res.json()) as ErrBody).error.code).toBe('service_unavailable');
      expect(Date.now() - t).toBeLessThan(500);
      await waitUntil(() => usage.some((u) => u.requestId === 'nobody-1'));
      expect(usage.find((u) => u.requestId === 'nobody-1')).toMatchObject({ status: 'error', errorCode: 'SERVICE_UNAVAILABLE' });
    } finally {
      router = await startRouterDouble(nats.url, fakeRouter);
    }
  });
});

