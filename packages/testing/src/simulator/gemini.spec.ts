import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { startSimulator } from './server.js';
import type { Simulator } from './types.js';

let sim: Simulator;
const agent = new Agent({ keepAliveTimeout: 1_000 });

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await agent.close();
  await sim.close();
});
beforeEach(() => {
  sim.clearFaults();
  sim.resetStats();
});

type GoogleError = { error: { code: number; message: string; status: string } };
type Response = {
  candidates: Array<{ content: { role: string; parts: Array<{ text?: string; functionCall?: { name: string; args: unknown } }> }; finishReason?: string; index: number }>;
  usageMetadata: { promptTokenCount: number; candidatesTokenCount?: number; totalTokenCount: number };
  modelVersion: string;
};

async function post(path: string, body: unknown) {
  const res = await request(`${sim.url}${path}`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}
const generate = (body: unknown, model = 'gemini-sim') => post(`/v1beta/models/${model}:generateContent`, body);
const streamGen = (body: unknown, model = 'gemini-sim') => post(`/v1beta/models/${model}:streamGenerateContent?alt=sse`, body);
function sse(text: string): Response[] {
  return text
    .split('\r\n\r\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => JSON.parse(e.slice(6)) as Response);
}
const hello = { contents: [{ role: 'user', parts: [{ text: 'hello there world' }] }] };

describe('gemini generateContent', () => {
  it('answers with the model from the path, text from the last user turn, usage', async () => {
    const r = await generate({ ...hello, systemInstruction: { parts: [{ text: 'be brief' }] } });
    expect(r.status).toBe(200);
    const j = JSON.parse(r.text) as Response;
    expect(j.modelVersion).toBe('gemini-sim');
    expect(j.candidates[0]!.content.role).toBe('model');
    expect(j.candidates[0]!.finishReason).toBe('STOP');
    const text = j.candidates[0]!.content.parts[0]!.text!;
    expect(text).toContain('hello there world');
    expect(j.usageMetadata.candidatesTokenCount).toBe(Math.ceil(text.length / 4));
    expect(j.usageMetadata.promptTokenCount).toBe(3 + 5 + 8);
    expect(sim.stats().requestsByModel).toEqual({ 'gemini-sim': 1 });
  });

  it('maxOutputTokens caps with MAX_TOKENS; candidateCount gives several candidates', async () => {
    const j = JSON.parse((await generate({ ...hello, generationConfig: { maxOutputTokens: 2, candidateCount: 2 } })).text) as Response;
    expect(j.candidates.map((c) => [c.index, c.finishReason])).toEqual([
      [0, 'MAX_TOKENS'],
      [1, 'MAX_TOKENS'],
    ]);
  });

  it('answers a functionCall when toolConfig mode is ANY (restricted by allowedFunctionNames), text when AUTO', async () => {
    const tools = [
      {
        functionDeclarations: [
          { name: 'noop' },
          { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city', 'days'] } },
        ],
      },
    ];
    const named = JSON.parse((await generate({ ...hello, tools, toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } } })).text) as Response;
    expect(named.candidates[0]!.content.parts[0]!.functionCall).toEqual({ name: 'get_weather', args: { city: 'hello there world', days: 42 } });
    const any = JSON.parse((await generate({ ...hello, tools, toolConfig: { functionCallingConfig: { mode: 'ANY' } } })).text) as Response;
    expect(any.candidates[0]!.content.parts[0]!.functionCall!.name).toBe('noop');
    const auto = JSON.parse((await generate({ ...hello, tools, toolConfig: { functionCallingConfig: { mode: 'AUTO' } } })).text) as Response;
    expect(auto.candidates[0]!.content.parts[0]!.text).toBeDefined();
  });

  it('accepts a function call turn answered by as many function responses', async () => {
    const r = await generate({
      contents: [
        { role: 'user', parts: [{ text: 'weather?' }] },
        { role: 'model', parts: [{ functionCall: { name: 'w', args: {} } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'w', response: { t: 1 } } }] },
      ],
    });
    expect(r.status).toBe(200);
  });

  it.each([
    [{}, 'contents is not specified'],
    [{ contents: [] }, 'contents is not specified'],
    [{ contents: [{ role: 'assistant', parts: [{ text: 'x' }] }] }, 'Please use a valid role: user, model.'],
    [{ contents: [{ role: 'user', parts: [] }] }, 'contents.parts must not be empty'],
    [{ contents: [{ role: 'user' }] }, 'parts must not be empty'],
    [{ contents: [{ role: 'user', parts: [{ content: 'x' }] }] }, 'Unknown name "content"'],
    [{ contents: [{ role: 'user', parts: [{ text: 'x', inlineData: { mimeType: 'image/png', data: '' } }] }] }, "Oneof field 'data' is already set"],
    [{ ...hello, messages: [] }, 'Unknown name "messages"'],
    [{ ...hello, generationConfig: { max_tokens: 3 } }, 'Unknown name "max_tokens"'],
    [{ ...hello, generationConfig: { responseMimeType: 'application/json', responseSchema: { type: 'object', additionalProperties: false } } }, 'Unknown name "additionalProperties"'],
    [{ ...hello, toolConfig: { functionCallingConfig: { mode: 'AUTO', allowedFunctionNames: ['f'] } } }, 'only allowed when mode is ANY'],
    [{ contents: [{ role: 'user', parts: [{ functionResponse: { name: 'w', response: {} } }] }] }, 'number of function response parts'],
  ])('rejects %j with a 400 INVALID_ARGUMENT', async (body, message) => {
    const r = await generate(body);
    expect(r.status).toBe(400);
    const e = JSON.parse(r.text) as GoogleError;
    expect(e.error.code).toBe(400);
    expect(e.error.status).toBe('INVALID_ARGUMENT');
    expect(e.error.message).toContain(message);
  });

  it('an unknown method is a 404 in Google shape; an unparseable body a 400', async () => {
    const r = await post('/v1beta/models/gemini-sim:countTokens', hello);
    expect(r.status).toBe(404);
    expect((JSON.parse(r.text) as GoogleError).error.status).toBe('NOT_FOUND');
    const bad = await generate('{"contents":');
    expect(bad.status).toBe(400);
    expect((JSON.parse(bad.text) as GoogleError).error.status).toBe('INVALID_ARGUMENT');
  });
});

describe('gemini streamGenerateContent', () => {
  it('alt=sse: data events separated by CRLF CRLF, no [DONE]; the last has finishReason and usage', async () => {
    const plain = JSON.parse((await generate(hello)).text) as Response;
    const r = await streamGen(hello);
    expect(r.headers['content-type']).toContain('text/event-stream');
    expect(r.text).not.toContain('[DONE]');
    expect(r.text.endsWith('\r\n\r\n')).toBe(true);
    const evs = sse(r.text);
    expect(evs.length).toBeGreaterThan(1);
    expect(evs.slice(0, -1).every((e) => e.candidates[0]!.finishReason === undefined)).toBe(true);
    expect(evs.at(-1)!.candidates[0]!.finishReason).toBe('STOP');
    expect(evs.map((e) => e.candidates[0]!.content.parts[0]!.text).join('')).toBe(plain.candidates[0]!.content.parts[0]!.text);
    expect(evs.at(-1)!.usageMetadata).toEqual(plain.usageMetadata);
  });

  it('without alt=sse: one JSON array of responses', async () => {
    const r = await post('/v1beta/models/gemini-sim:streamGenerateContent', hello);
    expect(Array.isArray(JSON.parse(r.text))).toBe(true);
  });

  it('streams a forced function call as one event with finishReason', async () => {
    const tools = [{ functionDeclarations: [{ name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } }] }];
    const evs = sse((await streamGen({ ...hello, tools, toolConfig: { functionCallingConfig: { mode: 'ANY' } } })).text);
    expect(evs).toHaveLength(1);
    expect(evs[0]!.candidates[0]!.content.parts[0]!.functionCall).toEqual({ name: 'lookup', args: { q: 'hello there world' } });
    expect(evs[0]!.candidates[0]!.finishReason).toBe('STOP');
  });
});

describe('gemini embedContent / batchEmbedContents', () => {
  type Values = { values: number[] };
  it('embedContent: one vector of outputDimensionality; batch: one per request, similar texts closer', async () => {
    const one = await post('/v1beta/models/text-embedding-004:embedContent', { content: { parts: [{ text: 'red apple pie' }] }, outputDimensionality: 32 });
    expect(one.status).toBe(200);
    expect((JSON.parse(one.text) as { embedding: Values }).embedding.values).toHaveLength(32);
    const texts = ['red apple pie', 'red apple tart', 'quantum physics'];
    const batch = await post('/v1beta/models/text-embedding-004:batchEmbedContents', {
      requests: texts.map((text) => ({ model: 'models/text-embedding-004', content: { parts: [{ text }] } })),
    });
    expect(batch.status).toBe(200);
    const [a, b, c] = (JSON.parse(batch.text) as { embeddings: Values[] }).embeddings.map((e) => e.values) as [number[], number[], number[]];
    expect(a).toHaveLength(768);
    const dot = (x: number[], y: number[]) => x.reduce((acc, v, i) => acc + v * y[i]!, 0);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c));
  });
  it('a batch request naming another model, no parts, or an empty batch is a 400 INVALID_ARGUMENT', async () => {
    const wrong = await post('/v1beta/models/text-embedding-004:batchEmbedContents', {
      requests: [{ model: 'models/other', content: { parts: [{ text: 'x' }] } }],
    });
    expect(wrong.status).toBe(400);
    expect((JSON.parse(wrong.text) as GoogleError).error.message).toContain('does not match');
    const noParts = await post('/v1beta/models/text-embedding-004:embedContent', { content: { parts: [] } });
    expect((JSON.parse(noParts.text) as GoogleError).error.status).toBe('INVALID_ARGUMENT');
    expect((await post('/v1beta/models/text-embedding-004:batchEmbedContents', { requests: [] })).status).toBe(400);
  });
});

describe('gemini faults', () => {
  it('status: the error body is in Google shape; rules match the model in the path', async () => {
    sim.setFaults([{ match: { model: 'gemini-busy' }, fault: { kind: 'status', status: 503 } }, { match: { model: 'gemini-quota' }, fault: { kind: 'status', status: 429, retryAfterSeconds: 2 } }]);
    const busy = await generate(hello, 'gemini-busy');
    expect(busy.status).toBe(503);
    expect(JSON.parse(busy.text)).toEqual({ error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } });
    const quota = await streamGen(hello, 'gemini-quota');
    expect(quota.status).toBe(429);
    expect(quota.headers['retry-after']).toBe('2');
    expect((JSON.parse(quota.text) as GoogleError).error.status).toBe('RESOURCE_EXHAUSTED');
    expect((await generate(hello)).status).toBe(200);
  });

  it('cut-stream and malformed-json work on the SSE stream', async () => {
    sim.setFaults([{ times: 1, outputTokens: 6, fault: { kind: 'cut-stream', afterChunks: 2 } }]);
    const res = await request(`${sim.url}/v1beta/models/gemini-sim:streamGenerateContent?alt=sse`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(hello),
    });
    let got = '';
    await expect(
      (async () => {
        for await (const c of res.body) got += Buffer.from(c as Uint8Array).toString('utf8');
      })(),
    ).rejects.toThrow();
    expect(sse(got)).toHaveLength(2);
    sim.setFaults([{ times: 1, fault: { kind: 'malformed-json' } }]);
    const m = await streamGen(hello);
    expect(m.status).toBe(200);
    expect(() => sse(m.text)).toThrow();
  });
});
