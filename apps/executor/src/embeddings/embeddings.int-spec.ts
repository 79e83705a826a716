import 'reflect-metadata';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { validateConfig } from '@gw/config';
import {
  contracts,
  costNanoUsd,
  HEADERS,
  ResultMeta,
  UsageEvent,
  type PlanTarget,
  type RequestMetaInput,
  type StreamContract,
} from '@gw/contracts';
import { startSimulator, type Simulator } from '@gw/testing';
import {
  connectNats,
  decodeJson,
  DurablePublisher,
  errorFromFrame,
  HotClient,
  HotServer,
  type Frame,
} from '@gw/transport';
import { ProviderDirectory } from '../providers/provider-directory.js';
import { UpstreamClient } from '../upstream/upstream.client.js';
import { UsageRecorder } from '../usage/usage.recorder.js';
import { EmbeddingsExecutor } from './embeddings.executor.js';

/**
 * The executor's embeddings handler against the real NATS (127.0.0.1:4222) and the provider simulator, on a subject
 * unique to this run; usage events are read from the real usage subject.
 */
const NATS_URL = 'nats://127.0.0.1:4222';
const RUN = `embint-${process.pid}-${Date.now().toString(36)}`;
const SUBJECT = { subject: `test.${RUN}.executor.embeddings`, service: 'executor' } as unknown as Pick<
  StreamContract,
  'subject' | 'service'
>;
const PRICE = { inputPerMTok: 0.02, outputPerMTok: 0 };

type Answer = {
  object: string;
  model: string;
  data: Array<{ object: string; index: number; embedding: number[] | string }>;
  usage: { prompt_tokens: number; total_tokens: number };
};

let sim: Simulator;
let nc: NatsConnection;
let client: HotClient;
let server: HotServer;
let upstream: UpstreamClient;
let seq = 0;
const usage: UsageEvent[] = [];

const target = (
  providerId: string,
  model: string,
  providerType: PlanTarget['providerType'] = 'openai-compatible',
): PlanTarget => ({
  providerId,
  providerType,
  model,
  baseUrl: null,
  timeoutMs: 5_000,
  price: PRICE,
});

async function call(body: unknown, targets: PlanTarget[]): Promise<{ id: string; frames: Frame[] }> {
  const id = `${RUN}-${++seq}`;
  const now = Date.now();
  const meta: RequestMetaInput = {
    requestId: id,
    model: 'client-embed',
    stream: false,
    teamId: 'team-int',
    keyId: 'key-int',
    deadlineAt: now + 30_000,
    receivedAt: now,
  };
  const frames: Frame[] = [];
  const fs = client.open(SUBJECT, new TextEncoder().encode(JSON.stringify(body)), {
    firstFrameTimeoutMs: 20_000,
    idleTimeoutMs: 20_000,
    headers: {
      [HEADERS.requestId]: id,
      [HEADERS.meta]: JSON.stringify(meta),
      [HEADERS.plan]: JSON.stringify({ model: 'client-embed', targets }),
    },
  });
  for await (const f of fs) frames.push(f);
  return { id, frames };
}

async function usageOf(id: string): Promise<UsageEvent[]> {
  const until = Date.now() + 10_000;
  while (!usage.some((u) => u.requestId === id) && Date.now() < until)
    await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 300)); // long enough for a duplicate to show up
  return usage.filter((u) => u.requestId === id);
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
  nc = await connectNats(NATS_URL, `executor-emb-int-${RUN}`);
  const config = validateConfig(
    {
      providers: [
        { id: 'sim-a', type: 'openai-compatible', baseUrl: `${sim.url}/v1`, apiKey: 'sk-sim-a' },
        { id: 'sim-b', type: 'simulator', baseUrl: `${sim.url}/v1` },
        { id: 'sim-claude', type: 'anthropic', baseUrl: sim.url, apiKey: 'sk-ant' },
      ],
    },
    {},
  );
  upstream = new UpstreamClient(8);
  const recorder = new UsageRecorder(nc, new DurablePublisher(nc));
  await recorder.ensureStream();
  const executor = new EmbeddingsExecutor(new ProviderDirectory(config), upstream, recorder);
  server = new HotServer(nc);
  server.serveStream(SUBJECT, (req, out) => executor.handle(req, out));
  client = new HotClient(nc);
  nc.subscribe(contracts.billingUsage.subject, {
    callback: (_e, m) => {
      const parsed = UsageEvent.safeParse(decodeJson(m.data));
      if (parsed.success && parsed.data.requestId.startsWith(RUN)) usage.push(parsed.data);
    },
  });
  await nc.flush();
});

afterAll(async () => {
  await server?.close();
  await upstream?.close();
  await nc?.drain();
  await sim?.close();
});

beforeEach(() => sim.clearFaults());

describe('executor embeddings (real NATS + simulator)', () => {
  it('answers floats for a list of strings, with the result header and one priced usage event', async () => {
    const { id, frames } = await call(
      { model: 'client-embed', input: ['red apple pie', 'quantum physics'], dimensions: 16 },
      [target('sim-a', 'text-embedding-3-small')],
    );
    expect(frames.map((f) => f.type)).toEqual(['response']);
    const a = decodeJson(frames[0]!.data) as Answer;
    expect(a.object).toBe('list');
    expect(a.data.map((d) => d.index)).toEqual([0, 1]);
    expect(a.data[0]!.embedding).toHaveLength(16);
    expect(typeof (a.data[0]!.embedding as number[])[0]).toBe('number');
    expect(a.usage.prompt_tokens).toBeGreaterThan(0);
    expect(ResultMeta.parse(JSON.parse(frames[0]!.headers!.get(HEADERS.result)))).toMatchObject({
      providerId: 'sim-a',
    });
    expect(sim.stats().lastRequests.at(-1)).toMatchObject({
      path: '/v1/embeddings',
      body: { model: 'text-embedding-3-small', dimensions: 16 },
    });

    const events = await usageOf(id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      status: 'ok',
      providerId: 'sim-a',
      requestedModel: 'client-embed',
      inputTokens: a.usage.prompt_tokens,
      outputTokens: 0,
      stream: false,
      attempts: 1,
    });
    expect(events[0]!.costNanoUsd).toBe(
      costNanoUsd(PRICE, { inputTokens: a.usage.prompt_tokens, outputTokens: 0 }).toString(),
    );
  });

  it('answers base64 when asked: little-endian float32 of the same vector', async () => {
    const floats = decodeJson(
      (await call({ model: 'x', input: 'red apple pie', dimensions: 8 }, [target('sim-a', 'e')])).frames[0]!
        .data,
    ) as Answer;
    const b64 = decodeJson(
      (
        await call({ model: 'x', input: 'red apple pie', dimensions: 8, encoding_format: 'base64' }, [
          target('sim-a', 'e'),
        ])
      ).frames[0]!.data,
    ) as Answer;
    const buf = Buffer.from(b64.data[0]!.embedding as string, 'base64');
    expect(buf.length).toBe(8 * 4);
    expect(buf.readFloatLE(0)).toBeCloseTo((floats.data[0]!.embedding as number[])[0]!, 5);
  });

  it('skips a provider without embeddings and fails over from a 503 to the next target', async () => {
    sim.setFaults([{ match: { model: 'broken-embed' }, fault: { kind: 'status', status: 503 } }]);
    const { id, frames } = await call({ model: 'x', input: [[1, 2, 3]] }, [
      target('sim-claude', 'claude', 'anthropic'),
      target('sim-a', 'broken-embed'),
      target('sim-b', 'good-embed', 'simulator'),
    ]);
    expect(frames.map((f) => f.type)).toEqual(['response']);
    const meta = ResultMeta.parse(JSON.parse(frames[0]!.headers!.get(HEADERS.result)));
    expect(meta.providerId).toBe('sim-b');
    expect(meta.attempts.map((x) => [x.providerId, x.ok])).toEqual([
      ['sim-a', false],
      ['sim-b', true],
    ]);
    const [u, ...more] = await usageOf(id);
    expect(more).toHaveLength(0);
    expect(u).toMatchObject({ status: 'ok', providerId: 'sim-b', attempts: 2 });
  });

  it('a model served only by providers without embeddings is a 400, recorded once at cost 0', async () => {
    const { id, frames } = await call({ model: 'x', input: 'hi' }, [
      target('sim-claude', 'claude', 'anthropic'),
    ]);
    expect(frames.map((f) => f.type)).toEqual(['error']);
    expect(frames[0]!.headers?.get(HEADERS.usageRecorded)).toBe('1');
    const e = errorFromFrame(frames[0]!);
    expect(e).toMatchObject({ code: 'INVALID_REQUEST', status: 400, param: 'model' });
    expect(e.message).toMatch(/does not support embeddings/);
    const [u, ...more] = await usageOf(id);
    expect(more).toHaveLength(0);
    expect(u).toMatchObject({
      status: 'error',
      errorCode: 'INVALID_REQUEST',
      costNanoUsd: '0',
      inputTokens: 0,
    });
  });

  it('a non-retryable upstream 400 is not failed over, and a bad body is a 400 before any call', async () => {
    sim.setFaults([{ match: { model: 'bad-embed' }, fault: { kind: 'status', status: 400 } }]);
    const r = await call({ model: 'x', input: 'hi' }, [
      target('sim-a', 'bad-embed'),
      target('sim-b', 'good-embed', 'simulator'),
    ]);
    expect(errorFromFrame(r.frames[0]!).status).toBe(400);
    expect((await usageOf(r.id))[0]).toMatchObject({ status: 'error', attempts: 1, costNanoUsd: '0' });

    const before = sim.stats().requests;
    const bad = await call({ model: 'x', input: [] }, [target('sim-a', 'e')]);
    expect(errorFromFrame(bad.frames[0]!)).toMatchObject({ code: 'INVALID_REQUEST', param: 'input' });
    expect(sim.stats().requests).toBe(before);
  });
});
