import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { costNanoUsd, HEADERS, ResultMeta, type PlanTarget, type UsageEvent } from '@gw/contracts';
import type { Simulator } from '@gw/testing';
import { decodeJson, errorFromFrame, type Frame } from '@gw/transport';
import { ProviderDirectory } from '../providers/provider-directory.js';
import { startExecutorStack, type ExecutorStack } from '../testing/harness.js';
import { EmbeddingsExecutor } from './embeddings.executor.js';

/**
 * The executor's embeddings handler against the real NATS (127.0.0.1:4222) and the provider simulator, on a subject
 * unique to this run; usage events are read from the real usage subject.
 */
const PRICE = { inputPerMTok: 0.02, outputPerMTok: 0 };

type Answer = {
  object: string;
  model: string;
  data: Array<{ object: string; index: number; embedding: number[] | string }>;
  usage: { prompt_tokens: number; total_tokens: number };
};

let stack: ExecutorStack;
let sim: Simulator;

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
  const { id, frames } = await stack.send({
    meta: { model: 'client-embed', stream: false, teamId: 'team-int', keyId: 'key-int' },
    body,
    plan: JSON.stringify({ model: 'client-embed', targets }),
  });
  return { id, frames };
}

const usageOf = (id: string): Promise<UsageEvent[]> => stack.usageOf(id);

beforeAll(async () => {
  stack = await startExecutorStack({
    name: 'embint',
    subject: 'embeddings',
    providers: (url) => [
      { id: 'sim-a', type: 'openai-compatible', baseUrl: `${url}/v1`, apiKey: 'sk-sim-a' },
      { id: 'sim-b', type: 'simulator', baseUrl: `${url}/v1` },
      { id: 'sim-claude', type: 'anthropic', baseUrl: url, apiKey: 'sk-ant' },
    ],
    connections: 8,
    serve: ({ config, upstream, recorder }) => {
      const executor = new EmbeddingsExecutor(new ProviderDirectory(config), upstream, recorder);
      return (req, out) => executor.handle(req, out);
    },
  });
  sim = stack.sim;
});

afterAll(async () => {
  await stack?.close();
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
