import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  contracts,
  GatewayError,
  HEADERS,
  RequestMeta,
  type ChatCompletion,
  type ChatCompletionRequest,
  type ResultMeta,
} from '@gw/contracts';
import { connectNats, HotServer, type FrameWriter, type StreamRequest } from '@gw/transport';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  storedEntries,
  waitForEntries,
  freshDatabase,
  startIngress,
  startNats,
  startRouterDouble,
  usageEvents,
  waitUntil,
  type FreshDb,
  type Ingress,
  type PrivateNats,
  type RouterDouble,
} from './testing/harness.js';

/**
 * POST /v1/messages and POST /v1/embeddings through HTTP: the ingress in-process, a private nats-server, a fresh
 * database, the real Redis (exact-cache reads under this ingress's own prefix), the input guardrails in process
 * (card numbers blocked by this file's config), and test doubles of the router/executor frames.
 */
let nats: PrivateNats;
let db: FreshDb;
let ingress: Ingress;
let router: RouterDouble;
let peers: NatsConnection;
let key: string;
const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const configDir = mkdtempSync(join(tmpdir(), 'gw-messages-'));
const configFile = join(configDir, 'gateway.yaml');
writeFileSync(configFile, 'moderation:\n  cardNumbers: block\n');
const embeddingRequests: StreamRequest[] = [];

const result: Record<string, string> = {
  [HEADERS.result]: JSON.stringify({
    providerId: 'sim',
    model: 'up-model',
    attempts: [{ providerId: 'sim', model: 'up-model', ok: true, latencyMs: 1 }],
  } satisfies ResultMeta),
};
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  JSON.stringify({
    id: 'chatcmpl-s',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'up-model',
    choices: [{ index: 0, delta, finish_reason: finish }],
  });

async function fakeRouter(req: StreamRequest, out: FrameWriter): Promise<void> {
  const meta = RequestMeta.parse(JSON.parse(req.headers?.get(HEADERS.meta) ?? '{}'));
  const body = JSON.parse(new TextDecoder().decode(req.data)) as ChatCompletionRequest;
  const last = body.messages.at(-1);
  switch (meta.model) {
    case 'echo': {
      const c: ChatCompletion = {
        id: 'chatcmpl-e1',
        object: 'chat.completion',
        created: 1,
        model: 'up-model',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: `echo: ${typeof last?.content === 'string' ? last.content : '?'}`,
            },
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
      };
      out.response(JSON.stringify(c), result);
      return;
    }
    case 'tools':
      out.start(result);
      out.chunk(chunk({ role: 'assistant', content: 'Let me check.' }));
      out.chunk(
        chunk({
          tool_calls: [
            {
              index: 0,
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":' },
            },
          ],
        }),
      );
      out.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }));
      out.chunk(chunk({}, 'tool_calls'));
      out.chunk(
        JSON.stringify({
          id: 'chatcmpl-s',
          object: 'chat.completion.chunk',
          created: 1,
          model: 'up-model',
          choices: [],
          usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
        }),
      );
      out.end();
      return;
    case 'fail-mid':
      out.start(result);
      out.chunk(chunk({ content: 'partial' }));
      out.error(new GatewayError('PROVIDER_ERROR', 'connection reset'));
      return;
    default:
      out.error(new GatewayError('MODEL_NOT_FOUND', `unknown model ${meta.model}`));
  }
}

async function fakeEmbeddings(req: StreamRequest, out: FrameWriter): Promise<void> {
  embeddingRequests.push(req);
  const meta = RequestMeta.parse(JSON.parse(req.headers?.get(HEADERS.meta) ?? '{}'));
  if (meta.model === 'embed-fail') {
    out.error(new GatewayError('PROVIDER_UNAVAILABLE', 'nobody home'));
    return;
  }
  out.response(
    JSON.stringify({
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [0.5, 0.25] }],
      model: 'up-embed',
      usage: { prompt_tokens: 2, total_tokens: 2 },
    }),
    result,
  );
}

beforeAll(async () => {
  [nats, db] = await Promise.all([
    startNats(),
    freshDatabase(process.env['POSTGRES_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres'),
  ]);
  ingress = await startIngress(nats.url, db.url, { REQUEST_TIMEOUT_MS: '3000', GATEWAY_CONFIG: configFile });
  router = await startRouterDouble(nats.url, fakeRouter);
  peers = await connectNats(nats.url, 'peer-doubles');
  const server = new HotServer(peers);
  server.serveStream(contracts.routingEmbeddings, fakeEmbeddings);
  await peers.flush();
  const admin = async (path: string, body: unknown) => {
    const r = await fetch(ingress.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingress.masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await r.json()) as Record<string, string>;
  };
  const team = await admin('/admin/v1/teams', { name: 'messages-team' });
  key = (await admin('/admin/v1/keys', { teamId: team['id'], name: 'k' }))['key']!;
});

afterAll(async () => {
  await router?.close();
  await peers?.drain();
  await ingress?.app.close();
  await Promise.all([nats?.stop(), db?.drop()]);
  const keys = ingress ? await redis.keys(`${ingress.env.REDIS_PREFIX}:*`) : [];
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  rmSync(configDir, { recursive: true, force: true });
});

const post = (path: string, body: unknown) =>
  fetch(`${ingress.url}${path}`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('POST /v1/messages', () => {
  it('forwards the translated request, answers an Anthropic Message, stores it, and serves the repeat from the cache', async () => {
    const usage = usageEvents(peers);
    const before = router.requests.length;
    const body = {
      model: 'echo',
      max_tokens: 50,
      temperature: 0,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'hi there' }],
      metadata: { user_id: 'alice' },
    };
    const res = await post('/v1/messages', body);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-cache')).toBe('miss');
    expect(res.headers.get('x-gateway-provider')).toBe('sim');
    const m = (await res.json()) as Record<string, unknown>;
    expect(m).toEqual({
      id: 'msg_e1',
      type: 'message',
      role: 'assistant',
      model: 'up-model',
      content: [{ type: 'text', text: 'echo: hi there' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: 5,
        output_tokens: 2,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
      },
    });
    const sent = JSON.parse(new TextDecoder().decode(router.requests[before]!.data)) as Record<
      string,
      unknown
    >;
    expect(sent).toEqual({
      model: 'echo',
      max_tokens: 50,
      temperature: 0,
      user: 'alice',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi there' },
      ],
    });
    expect(RequestMeta.parse(JSON.parse(router.requests[before]!.headers!.get(HEADERS.meta))).endUser).toBe(
      'alice',
    );

    // stored by the ingress itself, in the executor's (OpenAI) format: the hit is translated again on the way out
    const [store] = await waitForEntries(() => storedEntries(redis, ingress.env.REDIS_PREFIX), 1);
    expect(JSON.parse(store!.value)).toMatchObject({ object: 'chat.completion', model: 'up-model' });
    const again = await post('/v1/messages', body);
    expect(again.headers.get('x-gateway-cache')).toBe('hit');
    expect(await again.json()).toEqual(m);
    expect(router.requests.length).toBe(before + 1);
    await waitUntil(() => usage.length === 1); // the hit is billed by the ingress (the miss by the executor, absent here)
    expect(usage[0]).toMatchObject({ cacheStatus: 'hit', status: 'ok', requestedModel: 'echo' });
  });

  it('streams text and a tool call as Anthropic events', async () => {
    const res = await post('/v1/messages', {
      model: 'tools',
      max_tokens: 50,
      stream: true,
      messages: [{ role: 'user', content: 'Weather?' }],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const text = await res.text();
    const events = [...text.matchAll(/^event: (\S+)\ndata: (.*)\n\n/gm)].map((x) => ({
      event: x[1]!,
      data: JSON.parse(x[2]!) as Record<string, unknown>,
    }));
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[4]!.data['content_block']).toEqual({
      type: 'tool_use',
      id: 'call_1',
      name: 'get_weather',
      input: {},
    });
    expect(events[8]!.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: {
        output_tokens: 4,
        input_tokens: 9,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
      },
    });
  });

  it('a failure mid-stream ends with an Anthropic error event, billed once by the ingress', async () => {
    const usage = usageEvents(peers);
    const res = await post('/v1/messages', {
      model: 'fail-mid',
      max_tokens: 50,
      stream: true,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('event: content_block_delta');
    expect(
      text.endsWith(
        'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"connection reset"}}\n\n',
      ),
    ).toBe(true);
    await waitUntil(() => usage.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({ status: 'error', errorCode: 'PROVIDER_ERROR', stream: true });
  });

  it('errors before routing are in Anthropic’s shape: bad key, bad body, blocked, unknown model', async () => {
    const noKey = await fetch(`${ingress.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const bad = await post('/v1/messages', {
      model: 'echo',
      max_tokens: 0,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringMatching(/^max_tokens: /) as unknown },
    });
    const blocked = await post('/v1/messages', {
      model: 'echo',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'my card is 4111 1111 1111 1111' }],
    });
    expect(blocked.status).toBe(403);
    expect(await blocked.json()).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    const unknown = await post('/v1/messages', {
      model: 'who',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    const plainText = await fetch(`${ingress.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(plainText.status).toBe(415);
    expect(await plainText.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });
});

describe('POST /v1/embeddings', () => {
  it('forwards the client’s bytes to routing.rpc.embeddings.v1 and relays the answer with the gateway headers', async () => {
    const before = embeddingRequests.length;
    const res = await post('/v1/embeddings', { model: 'embed', input: ['a', 'b'], user: 'bob' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-cache')).toBe('bypass');
    expect(res.headers.get('x-gateway-provider')).toBe('sim');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(await res.json()).toMatchObject({ object: 'list', data: [{ embedding: [0.5, 0.25] }] });
    const req = embeddingRequests[before]!;
    expect(JSON.parse(new TextDecoder().decode(req.data))).toEqual({
      model: 'embed',
      input: ['a', 'b'],
      user: 'bob',
    });
    expect(RequestMeta.parse(JSON.parse(req.headers!.get(HEADERS.meta)))).toMatchObject({
      model: 'embed',
      stream: false,
      endUser: 'bob',
      cacheStatus: 'bypass',
    });
  });

  it('refuses bad input with a 400 in the OpenAI shape, without routing; a failure nobody billed is billed once', async () => {
    const before = embeddingRequests.length;
    for (const body of [
      { model: 'embed' },
      { model: 'embed', input: '' },
      { model: 'embed', input: 'x', encoding_format: 'hex' },
      { model: 'embed', input: 'x', dimensions: 0 },
      { model: 'embed', input: 'x', extra: 1 },
    ]) {
      const r = await post('/v1/embeddings', body);
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    }
    expect(embeddingRequests.length).toBe(before);

    const usage = usageEvents(peers);
    const fail = await post('/v1/embeddings', { model: 'embed-fail', input: 'x' });
    expect(fail.status).toBe(503);
    expect(((await fail.json()) as { error: { code: string } }).error.code).toBe('provider_unavailable');
    await waitUntil(() => usage.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({
      status: 'error',
      errorCode: 'PROVIDER_UNAVAILABLE',
      requestedModel: 'embed-fail',
      stream: false,
    });
  });
});
