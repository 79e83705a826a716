import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validateConfig } from '@gw/config';
import {
  contracts,
  costNanoUsd,
  HEADERS,
  ResultMeta,
  type ChatCompletion,
  type ChatCompletionChunk,
  type PlanTarget,
  type RequestMetaInput,
  type UsageEvent,
} from '@gw/contracts';
import type { FaultRule, Simulator } from '@gw/testing';
import { decodeJson, errorFromFrame, type Frame, type HotClient } from '@gw/transport';
import { ImageFetcher } from '../images/image-fetcher.js';
import { ProviderDirectory } from '../providers/provider-directory.js';
import { startExecutorStack, waitFor, type ExecutorStack, type TimedFrame } from '../testing/harness.js';
import type { UpstreamClient } from '../upstream/upstream.client.js';
import { ChatExecutor } from './chat.executor.js';

/**
 * The executor against the real NATS (127.0.0.1:4222) and the provider simulator. The executor's handler is
 * served on a subject unique to this run (so no other executor replica on the same NATS takes our requests);
 * the cancel event goes over the real broadcast contract; usage events are read from the real usage subject.
 */
const PRICE = { inputPerMTok: 0.15, outputPerMTok: 0.6 };

let stack: ExecutorStack;
let sim: Simulator;
let client: HotClient;
let upstream: UpstreamClient;
let executor: ChatExecutor;
let images: ImageFetcher;

function target(providerId: 'sim-a' | 'sim-b', model: string, timeoutMs = 5_000): PlanTarget {
  return { providerId, providerType: providerId === 'sim-a' ? 'openai-compatible' : 'simulator', model, baseUrl: null, timeoutMs, price: PRICE };
}

async function call(opts: {
  stream: boolean;
  includeUsage?: boolean;
  targets: PlanTarget[];
  body?: unknown;
  plan?: string;
  meta?: Partial<Omit<RequestMetaInput, 'requestId' | 'receivedAt' | 'deadlineAt'>>;
  onFrame?: (f: TimedFrame, requestId: string) => void;
}): Promise<{ id: string; frames: TimedFrame[] }> {
  const { id, frames } = await stack.send({
    meta: {
      model: 'client-model',
      stream: opts.stream,
      includeUsage: opts.includeUsage ?? false,
      teamId: 'team-int',
      keyId: 'key-int',
      tags: { suite: 'executor' },
      ...opts.meta,
    },
    body: opts.body ?? { model: 'client-model', messages: [{ role: 'user', content: 'Tell me about the sea and the sky' }], stream: opts.stream },
    plan: opts.plan ?? JSON.stringify({ model: 'client-model', targets: opts.targets }),
    ...(opts.onFrame && { onFrame: opts.onFrame }),
  });
  return { id, frames };
}

/** The usage events of a request, after a pause long enough for a duplicate to show up. */
const usageOf = (id: string): Promise<UsageEvent[]> => stack.usageOf(id);

const types = (frames: Frame[]) => frames.map((f) => f.type);
const chunkOf = (f: Frame) => decodeJson(f.data) as ChatCompletionChunk;
const result = (f: Frame) => ResultMeta.parse(JSON.parse(f.headers!.get(HEADERS.result)));
const requestsFor = (model: string) => sim.stats().requestsByModel[model] ?? 0;

beforeAll(async () => {
  stack = await startExecutorStack({
    name: 'exint',
    subject: 'chat',
    providers: (url) => [
      { id: 'sim-a', type: 'openai-compatible', baseUrl: `${url}/v1`, apiKey: '${SIM_KEY}', headers: { 'x-team': 'int' } },
      { id: 'sim-b', type: 'simulator', baseUrl: `${url}/v1` },
    ],
    env: { SIM_KEY: 'sk-sim-a' },
    connections: 16,
    serve: ({ config, upstream, recorder, server }) => {
      images = new ImageFetcher(config.images);
      executor = new ChatExecutor(new ProviderDirectory(config), upstream, recorder, images);
      server.serveEvent(contracts.executorCancel, (e) => void executor.cancel(e.requestId, e.reason));
      return (req, out) => executor.handle(req, out);
    },
  });
  ({ sim, client, upstream } = stack);
});

afterAll(async () => {
  await stack?.close();
  await images?.close();
});

beforeEach(() => {
  sim.clearFaults();
});

describe('executor chat (real NATS + simulator)', () => {
  it('non-stream: one response frame with gw-result, credentials from the config, one usage event', async () => {
    const { id, frames } = await call({ stream: false, targets: [target('sim-a', 'gpt-4o-mini')] });
    expect(types(frames)).toEqual(['response']);
    const c = decodeJson(frames[0]!.data) as ChatCompletion;
    expect(c.object).toBe('chat.completion');
    expect(c.model).toBe('gpt-4o-mini');
    expect(c.choices[0]!.message.content).toBeTruthy();
    const meta = result(frames[0]!);
    expect(meta).toMatchObject({ providerId: 'sim-a', model: 'gpt-4o-mini' });
    expect(meta.attempts).toHaveLength(1);
    const last = sim.stats().lastRequests.at(-1)!;
    expect(last.headers['authorization']).toBe('Bearer sk-sim-a');
    expect(last.headers['x-team']).toBe('int');

    const events = await usageOf(id);
    expect(events).toHaveLength(1);
    const u = events[0]!;
    expect(u).toMatchObject({ status: 'ok', providerId: 'sim-a', model: 'gpt-4o-mini', requestedModel: 'client-model', teamId: 'team-int', attempts: 1, stream: false, usageEstimated: false });
    expect(u.inputTokens).toBe(c.usage!.prompt_tokens);
    expect(u.outputTokens).toBe(c.usage!.completion_tokens);
    expect(u.costNanoUsd).toBe(costNanoUsd(PRICE, { inputTokens: u.inputTokens, outputTokens: u.outputTokens }).toString());
  });

  it('input images (counted by the ingress, in gw-meta): on the usage event, charged at the target\'s perImage; a failure carries them at 0', async () => {
    const priced = { ...PRICE, perImage: 0.003 };
    const body = { model: 'client-model', messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }] };
    const ok = await call({ stream: false, targets: [{ ...target('sim-a', 'gpt-4o-mini'), price: priced }], body, meta: { inputImages: 2 } });
    expect(types(ok.frames)).toEqual(['response']);
    const [u] = await usageOf(ok.id);
    expect(u).toMatchObject({ status: 'ok', inputImages: 2 });
    const tokens = { inputTokens: u!.inputTokens, outputTokens: u!.outputTokens };
    expect(u!.costNanoUsd).toBe(costNanoUsd(priced, { ...tokens, inputImages: 2 }).toString());
    expect(BigInt(u!.costNanoUsd) - costNanoUsd(priced, tokens)).toBe(6_000_000n);

    sim.setFaults([{ match: { model: 'sim-large' }, fault: { kind: 'status', status: 500 } }]);
    const failed = await call({ stream: false, targets: [{ ...target('sim-a', 'sim-large'), price: priced }], body, meta: { inputImages: 2 } });
    expect(types(failed.frames)).toEqual(['error']);
    expect((await usageOf(failed.id))[0]).toMatchObject({ status: 'error', inputImages: 2, costNanoUsd: '0' });
  });

  it('stream: start first, chunks relayed as they arrive, usage chunk last when asked, then end', async () => {
    sim.setFaults([{ match: { model: 'sim-small' }, fault: { kind: 'chunk-delay', ms: 120, chunks: 6 } }]);
    const { id, frames } = await call({ stream: true, includeUsage: true, targets: [target('sim-a', 'sim-small')] });
    const t = types(frames);
    expect(t[0]).toBe('start');
    expect(t.at(-1)).toBe('end');
    expect(result(frames[0]!)).toMatchObject({ providerId: 'sim-a', model: 'sim-small' });
    const chunks = frames.filter((f) => f.type === 'chunk');
    const content = chunks.map(chunkOf);
    const usageChunk = content.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage?.completion_tokens).toBe(6);
    for (const c of content.slice(0, -1)) expect(c.usage ?? null).toBeNull();
    // relayed, not buffered: the first chunk reached us long before the last content chunk
    const firstContent = chunks[0]!.at;
    const lastContent = chunks.at(-2)!.at;
    expect(lastContent - firstContent).toBeGreaterThanOrEqual(400);
    // the upstream was asked for usage
    expect(sim.stats().lastRequests.at(-1)!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    const [u, ...more] = await usageOf(id);
    expect(more).toHaveLength(0);
    expect(u).toMatchObject({ status: 'ok', stream: true, outputTokens: 6, usageEstimated: false });
  });

  it('stream without include_usage: no usage chunk, no usage field, even though the upstream sent it', async () => {
    const { frames } = await call({ stream: true, targets: [target('sim-b', 'gpt-4o-mini')] });
    const chunks = frames.filter((f) => f.type === 'chunk').map(chunkOf);
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) {
      expect(c.choices.length).toBeGreaterThan(0);
      expect('usage' in c).toBe(false);
    }
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);
    expect(types(frames).at(-1)).toBe('end');
  });

  it.each<[string, FaultRule['fault']]>([
    ['500', { kind: 'status', status: 500 }],
    ['503', { kind: 'status', status: 503 }],
    ['429', { kind: 'status', status: 429, retryAfterSeconds: 3 }],
    ['malformed JSON', { kind: 'malformed-json' }],
  ])('fails over from a %s target to the next', async (_name, fault) => {
    sim.setFaults([{ match: { model: 'sim-large' }, fault }]);
    for (const stream of [false, true]) {
      const { id, frames } = await call({ stream, targets: [target('sim-a', 'sim-large'), target('sim-b', 'gpt-4o-mini')] });
      expect(types(frames)[0]).toBe(stream ? 'start' : 'response');
      expect(types(frames).at(-1)).toBe(stream ? 'end' : 'response');
      const meta = result(frames[0]!);
      expect(meta.providerId).toBe('sim-b');
      expect(meta.attempts.map((a) => a.ok)).toEqual([false, true]);
      const [u, ...more] = await usageOf(id);
      expect(more).toHaveLength(0);
      expect(u).toMatchObject({ status: 'ok', providerId: 'sim-b', attempts: 2 });
    }
  });

  it('fails over from a target that times out, and aborts the hung upstream call', async () => {
    sim.setFaults([{ match: { model: 'sim-large' }, fault: { kind: 'timeout' } }]);
    const before = sim.stats().abortedTotal;
    const t0 = Date.now();
    const { frames } = await call({ stream: false, targets: [target('sim-a', 'sim-large', 300), target('sim-b', 'gpt-4o-mini')] });
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(types(frames)).toEqual(['response']);
    const meta = result(frames[0]!);
    expect(meta.attempts[0]).toMatchObject({ ok: false, error: 'PROVIDER_TIMEOUT' });
    expect(meta.providerId).toBe('sim-b');
    expect(await waitFor(() => sim.stats().abortedTotal > before, 1_000)).toBe(true);
  });

  it('a connection error (nothing listening) fails over', async () => {
    const dead = validateConfig({ providers: [{ id: 'dead', type: 'openai', baseUrl: 'http://127.0.0.1:9/v1' }] }, {});
    const dir = new ProviderDirectory(dead);
    const e = dir.resolve({ ...target('sim-a', 'x'), providerId: 'dead', providerType: 'openai' });
    expect(e.provider.baseUrl).toBe('http://127.0.0.1:9/v1');
    // through the executor: an unknown provider id is skipped like an unreachable one
    const { frames } = await call({ stream: false, targets: [{ ...target('sim-a', 'gpt-4o-mini'), providerId: 'not-configured' }, target('sim-b', 'gpt-4o-mini')] });
    expect(result(frames[0]!).attempts.map((a) => a.ok)).toEqual([false, true]);
    const unreachable = await call({ stream: false, targets: [{ ...target('sim-a', 'gpt-4o-mini'), baseUrl: 'http://127.0.0.1:9/v1' }, target('sim-b', 'gpt-4o-mini')] });
    expect(result(unreachable.frames[0]!).attempts[0]).toMatchObject({ ok: false, error: 'PROVIDER_UNAVAILABLE' });
  });

  it('no failover once a chunk went out: a cut stream ends in an error frame, usage estimated', async () => {
    sim.setFaults([{ match: { model: 'sim-large' }, fault: { kind: 'cut-stream', afterChunks: 4 } }]);
    const before = requestsFor('gpt-4o');
    const { id, frames } = await call({ stream: true, targets: [target('sim-a', 'sim-large'), target('sim-b', 'gpt-4o')] });
    const t = types(frames);
    expect(t[0]).toBe('start');
    expect(t.filter((x) => x === 'chunk').length).toBeGreaterThan(0);
    const last = frames.at(-1)!;
    expect(last.type).toBe('error');
    expect(last.headers!.get(HEADERS.usageRecorded)).toBe('1');
    expect(errorFromFrame(last)).toMatchObject({ code: 'PROVIDER_ERROR', message: 'upstream stream ended early' });
    expect(requestsFor('gpt-4o')).toBe(before);
    const [u, ...more] = await usageOf(id);
    expect(more).toHaveLength(0);
    expect(u).toMatchObject({ status: 'error', errorCode: 'PROVIDER_ERROR', usageEstimated: true, providerId: 'sim-a' });
    expect(u!.inputTokens).toBeGreaterThan(0);
    expect(u!.outputTokens).toBeGreaterThan(0);
  });

  it('a stream cut before its first event still fails over', async () => {
    sim.setFaults([{ match: { model: 'sim-large' }, fault: { kind: 'cut-stream', afterChunks: 0 } }]);
    const { frames } = await call({ stream: true, targets: [target('sim-a', 'sim-large'), target('sim-b', 'gpt-4o-mini')] });
    expect(types(frames)[0]).toBe('start');
    expect(types(frames).at(-1)).toBe('end');
    expect(result(frames[0]!).attempts.map((a) => a.ok)).toEqual([false, true]);
  });

  it('a non-retryable 400 is not retried: the upstream message reaches the client', async () => {
    sim.setFaults([{ match: { model: 'sim-large' }, fault: { kind: 'status', status: 400, body: { error: { message: 'bad thing', type: 'invalid_request_error', param: 'temperature', code: null } } } }]);
    const before = requestsFor('gpt-4o');
    const { id, frames } = await call({ stream: false, targets: [target('sim-a', 'sim-large'), target('sim-b', 'gpt-4o')] });
    expect(types(frames)).toEqual(['error']);
    expect(errorFromFrame(frames[0]!)).toMatchObject({ code: 'INVALID_REQUEST', message: 'bad thing', param: 'temperature', status: 400 });
    expect(requestsFor('gpt-4o')).toBe(before);
    const [u] = await usageOf(id);
    expect(u).toMatchObject({ status: 'error', errorCode: 'INVALID_REQUEST', inputTokens: 0, outputTokens: 0, costNanoUsd: '0', attempts: 1 });
  });

  it('every target failing: the last error, with retry-after, and one usage event', async () => {
    sim.setFaults([{ match: { model: 'sim-large' }, fault: { kind: 'status', status: 429, retryAfterSeconds: 9 } }]);
    const { id, frames } = await call({ stream: true, targets: [target('sim-a', 'sim-large'), target('sim-b', 'sim-large')] });
    expect(types(frames)).toEqual(['error']);
    expect(errorFromFrame(frames[0]!)).toMatchObject({ code: 'PROVIDER_RATE_LIMITED', status: 429, retryAfterSeconds: 9 });
    const events = await usageOf(id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ status: 'error', attempts: 2 });
  });

  it('cancel aborts the upstream call within 1 s and records a cancelled usage event', async () => {
    sim.setFaults([{ match: { model: 'sim-large' }, fault: { kind: 'chunk-delay', ms: 200, chunks: 40 } }]);
    const before = sim.stats().abortedTotal;
    let cancelledAt = 0;
    const done = call({
      stream: true,
      targets: [target('sim-a', 'sim-large')],
      onFrame: (f, requestId) => {
        if (f.type === 'chunk' && !cancelledAt) {
          cancelledAt = Date.now();
          client.emit(contracts.executorCancel, { requestId, reason: 'client closed the connection' });
        }
      },
    });
    const { id, frames } = await done;
    expect(cancelledAt).toBeGreaterThan(0);
    expect(await waitFor(() => sim.stats().abortedTotal > before, 1_000)).toBe(true);
    const aborted = sim.stats().aborted.filter((a) => a.model === 'sim-large').at(-1)!;
    expect(aborted.at - cancelledAt).toBeLessThan(1_000);
    expect(frames.at(-1)!.type).toBe('error');
    expect(errorFromFrame(frames.at(-1)!).code).toBe('CANCELLED');
    const [u, ...more] = await usageOf(id);
    expect(more).toHaveLength(0);
    expect(u).toMatchObject({ status: 'cancelled', errorCode: 'CANCELLED', usageEstimated: true });
    expect(u!.outputTokens).toBeLessThan(40);
  });

  it('a cancel for a request this replica does not run is ignored', () => {
    expect(executor.cancel(`${stack.run}-nobody`, 'x')).toBe(false);
  });

  it('bad plan or bad body: a clean error frame, usage still recorded once', async () => {
    const bad = await call({ stream: false, targets: [], plan: '{"model":"x","targets":[]}' });
    expect(types(bad.frames)).toEqual(['error']);
    expect(errorFromFrame(bad.frames[0]!).code).toBe('INTERNAL');
    expect(bad.frames[0]!.headers!.get(HEADERS.usageRecorded)).toBe('1');
    expect(await usageOf(bad.id)).toHaveLength(1);
    const body = await call({ stream: false, targets: [target('sim-a', 'gpt-4o-mini')], body: { model: 'x', messages: [] } });
    expect(errorFromFrame(body.frames[0]!).code).toBe('INVALID_REQUEST');
    const [u] = await usageOf(body.id);
    expect(u).toMatchObject({ status: 'error', errorCode: 'INVALID_REQUEST', attempts: 0 });
  });

  it('reuses one keep-alive pool per upstream origin', () => {
    // every target so far pointed at the simulator (plus the unreachable port-9 origin)
    expect(upstream.origins).toBe(2);
  });
});
