import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { crc32 } from 'node:zlib';
import { Agent, request } from 'undici';
import { BEDROCK_TEST_CREDENTIALS, checkSigV4 } from './bedrock-wire.js';
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

const BEARER = { authorization: 'Bearer bedrock-api-key-sim' };
type Converse = {
  output: {
    message: {
      role: string;
      content: Array<{ text?: string; toolUse?: { toolUseId: string; name: string; input: unknown } }>;
    };
  };
  stopReason: string;
  usage: { inputTokens: number; outputTokens: number; totalTokens: number };
};

async function post(path: string, body: unknown, headers: Record<string, string> = BEARER) {
  const res = await request(`${sim.url}${path}`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, bytes, text: bytes.toString('utf8') };
}
const converse = (body: unknown, model = 'anthropic.claude-sim-v1:0', headers?: Record<string, string>) =>
  post(`/model/${encodeURIComponent(model)}/converse`, body, headers);
const hello = { messages: [{ role: 'user', content: [{ text: 'hello there world' }] }] };

/** A plain reading of the frames (prelude, headers, payload; CRCs checked) to see what the simulator wrote. */
function frames(buf: Buffer): Array<{ headers: Record<string, string>; payload: Record<string, unknown> }> {
  const out = [];
  let o = 0;
  while (o < buf.length) {
    const total = buf.readUInt32BE(o);
    const hlen = buf.readUInt32BE(o + 4);
    expect(buf.readUInt32BE(o + 8)).toBe(crc32(buf.subarray(o, o + 8)));
    expect(buf.readUInt32BE(o + total - 4)).toBe(crc32(buf.subarray(o, o + total - 4)));
    const headers: Record<string, string> = {};
    let i = o + 12;
    while (i < o + 12 + hlen) {
      const n = buf[i]!;
      const name = buf.toString('utf8', i + 1, i + 1 + n);
      const len = buf.readUInt16BE(i + 2 + n);
      headers[name] = buf.toString('utf8', i + 4 + n, i + 4 + n + len);
      i += 4 + n + len;
    }
    out.push({
      headers,
      payload: JSON.parse(buf.toString('utf8', o + 12 + hlen, o + total - 4)) as Record<string, unknown>,
    });
    o += total;
  }
  return out;
}

describe('bedrock Converse', () => {
  it('answers text from the last user turn, with stopReason and usage; the model comes from the path', async () => {
    const r = await converse({
      ...hello,
      system: [{ text: 'be brief' }],
      inferenceConfig: { maxTokens: 100, temperature: 0.5 },
    });
    expect(r.status).toBe(200);
    const j = JSON.parse(r.text) as Converse;
    expect(j.output.message.role).toBe('assistant');
    expect(j.output.message.content[0]!.text).toContain('hello there world');
    expect(j.stopReason).toBe('end_turn');
    expect(j.usage.totalTokens).toBe(j.usage.inputTokens + j.usage.outputTokens);
    expect(sim.stats().requestsByModel).toEqual({ 'anthropic.claude-sim-v1:0': 1 });
  });

  it('maxTokens caps with max_tokens; a forced tool (any / named) answers a toolUse with stopReason tool_use', async () => {
    expect(
      (JSON.parse((await converse({ ...hello, inferenceConfig: { maxTokens: 2 } })).text) as Converse)
        .stopReason,
    ).toBe('max_tokens');
    const toolConfig = {
      tools: [
        { toolSpec: { name: 'noop', inputSchema: { json: { type: 'object', properties: {} } } } },
        {
          toolSpec: {
            name: 'get_weather',
            inputSchema: {
              json: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
            },
          },
        },
      ],
    };
    const named = JSON.parse(
      (
        await converse({
          ...hello,
          toolConfig: { ...toolConfig, toolChoice: { tool: { name: 'get_weather' } } },
        })
      ).text,
    ) as Converse;
    expect(named.stopReason).toBe('tool_use');
    expect(named.output.message.content[0]!.toolUse).toMatchObject({
      name: 'get_weather',
      input: { city: 'hello there world' },
    });
    const any = JSON.parse(
      (await converse({ ...hello, toolConfig: { ...toolConfig, toolChoice: { any: {} } } })).text,
    ) as Converse;
    expect(any.output.message.content[0]!.toolUse!.name).toBe('noop');
    const auto = JSON.parse((await converse({ ...hello, toolConfig })).text) as Converse;
    expect(auto.output.message.content[0]!.text).toBeDefined();
  });

  const useTurn = { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'w', input: {} } }] };
  const tools = { tools: [{ toolSpec: { name: 'w', inputSchema: { json: { type: 'object' } } } }] };
  it.each([
    [{}, 'must start with a user message'],
    [{ messages: [{ role: 'assistant', content: [{ text: 'x' }] }] }, 'must start with a user message'],
    [{ messages: [hello.messages[0], hello.messages[0]] }, 'must alternate between user and assistant'],
    [{ messages: [{ role: 'user', content: [] }] }, 'is empty'],
    [{ messages: [{ role: 'user', content: [{ text: '  ' }] }] }, 'is blank'],
    [{ messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] }, 'extraneous key [type]'],
    [{ messages: [{ role: 'user', content: [{ text: 'x', image: {} }] }] }, 'exactly one member'],
    [
      { messages: [{ role: 'user', content: [{ image: { format: 'tiff', source: { bytes: 'AAAA' } } }] }] },
      'png, jpeg, gif, webp',
    ],
    [
      { messages: [{ role: 'user', content: [{ image: { format: 'png', source: { url: 'https://x' } } }] }] },
      'base64 source.bytes',
    ],
    [{ ...hello, model: 'x' }, 'extraneous key [model]'],
    [{ ...hello, inferenceConfig: { max_tokens: 3 } }, 'extraneous key [max_tokens]'],
    [{ ...hello, inferenceConfig: { temperature: 1.5 } }, 'temperature must be between 0 and 1'],
    [{ ...hello, toolConfig: { tools: [] } }, 'at least 1 item'],
    [{ ...hello, toolConfig: { ...tools, toolChoice: { none: {} } } }, 'exactly one of auto, any, tool'],
    [
      { ...hello, toolConfig: { ...tools, toolChoice: { tool: { name: 'other' } } } },
      'not in toolConfig.tools',
    ],
    [
      {
        messages: [
          hello.messages[0],
          useTurn,
          { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ text: 'r' }] } }] },
        ],
      },
      'toolConfig field must be defined',
    ],
    [
      {
        toolConfig: tools,
        messages: [
          hello.messages[0],
          useTurn,
          { role: 'user', content: [{ toolResult: { toolUseId: 'zz', content: [{ text: 'r' }] } }] },
        ],
      },
      'does not match any toolUse',
    ],
  ])('rejects %j with a 400 ValidationException', async (body, message) => {
    const r = await converse(body);
    expect(r.status).toBe(400);
    expect(r.headers['x-amzn-errortype']).toMatch(/^ValidationException:/);
    expect((JSON.parse(r.text) as { message: string }).message).toContain(message);
  });

  it('accepts a tool round trip and inline images and documents', async () => {
    const r = await converse({
      toolConfig: tools,
      messages: [
        {
          role: 'user',
          content: [
            { text: 'look' },
            { image: { format: 'png', source: { bytes: 'iVBORw0KGgo=' } } },
            { document: { format: 'pdf', name: 'a doc', source: { bytes: 'JVBERi0=' } } },
          ],
        },
        useTurn,
        { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ text: 'sunny' }] } }] },
      ],
    });
    expect(r.status).toBe(200);
  });
});

describe('bedrock ConverseStream', () => {
  it('binary event-stream frames with valid CRCs: messageStart, deltas, stop, messageStop, metadata', async () => {
    const plain = JSON.parse((await converse(hello)).text) as Converse;
    const r = await post(`/model/anthropic.claude-sim/converse-stream`, hello);
    expect(r.headers['content-type']).toBe('application/vnd.amazon.eventstream');
    const f = frames(r.bytes);
    expect(f.map((x) => x.headers[':event-type'])).toEqual([
      'messageStart',
      ...Array<string>(f.length - 4).fill('contentBlockDelta'),
      'contentBlockStop',
      'messageStop',
      'metadata',
    ]);
    expect(f.every((x) => x.headers[':message-type'] === 'event' && typeof x.payload['p'] === 'string')).toBe(
      true,
    );
    const text = f
      .filter((x) => x.headers[':event-type'] === 'contentBlockDelta')
      .map((x) => (x.payload['delta'] as { text: string }).text);
    expect(text.join('')).toBe(plain.output.message.content[0]!.text);
    expect(f.at(-1)!.payload['usage']).toEqual(plain.usage);
  });

  it('a forced tool streams contentBlockStart with the toolUse, then input fragments', async () => {
    const toolConfig = {
      tools: [
        {
          toolSpec: {
            name: 'lookup',
            inputSchema: { json: { type: 'object', properties: { q: { type: 'string' } } } },
          },
        },
      ],
      toolChoice: { any: {} },
    };
    const f = frames((await post('/model/m/converse-stream', { ...hello, toolConfig })).bytes);
    expect(f[1]!.payload).toMatchObject({ contentBlockIndex: 0, start: { toolUse: { name: 'lookup' } } });
    const input = f
      .filter((x) => x.headers[':event-type'] === 'contentBlockDelta')
      .map((x) => (x.payload['delta'] as { toolUse: { input: string } }).toolUse.input);
    expect(JSON.parse(input.join(''))).toEqual({ q: 'hello there world' });
    expect(f.find((x) => x.headers[':event-type'] === 'messageStop')!.payload['stopReason']).toBe('tool_use');
  });
});

describe('bedrock InvokeModel embeddings', () => {
  it('titan: one vector of the asked dimensions and the token count; cohere: one per text; bad bodies 400', async () => {
    const titan = JSON.parse(
      (
        await post('/model/amazon.titan-embed-text-v2%3A0/invoke', {
          inputText: 'hello world',
          dimensions: 256,
        })
      ).text,
    ) as { embedding: number[]; inputTextTokenCount: number };
    expect(titan.embedding).toHaveLength(256);
    expect(titan.inputTextTokenCount).toBe(3);
    const cohere = JSON.parse(
      (
        await post('/model/cohere.embed-english-v3/invoke', {
          texts: ['a', 'b'],
          input_type: 'search_document',
        })
      ).text,
    ) as { embeddings: number[][] };
    expect(cohere.embeddings).toHaveLength(2);
    expect(
      (await post('/model/amazon.titan-embed-text-v2%3A0/invoke', { inputText: 'x', dimensions: 3 })).status,
    ).toBe(400);
    expect((await post('/model/cohere.embed-english-v3/invoke', { texts: ['a'] })).status).toBe(400);
  });
});

describe('bedrock SigV4 check', () => {
  it('no Authorization → 403 MissingAuthenticationToken; a malformed one → IncompleteSignature', async () => {
    const none = await converse(hello, 'm', { authorization: '' });
    expect(none.status).toBe(403);
    expect(none.headers['x-amzn-errortype']).toMatch(/^MissingAuthenticationTokenException:/);
    const bad = await converse(hello, 'm', { authorization: 'AWS4-HMAC-SHA256 Credential=x' });
    expect(bad.headers['x-amzn-errortype']).toMatch(/^IncompleteSignatureException:/);
  });

  it('scope, signed headers, date skew and (with the test key) the signature itself are checked', () => {
    const now = Date.UTC(2026, 0, 2, 3, 4, 5);
    const stamp = '20260102T030405Z';
    const auth = (key: string, svc: string, signed: string, sig = 'a'.repeat(64)) =>
      `AWS4-HMAC-SHA256 Credential=${key}/20260102/us-east-1/${svc}/aws4_request, SignedHeaders=${signed}, Signature=${sig}`;
    const req = (authorization: string, date = stamp) => ({
      method: 'POST',
      path: '/model/m/converse',
      query: '',
      headers: { authorization, 'x-amz-date': date, host: 'h' },
      body: Buffer.from('{}'),
    });
    expect(checkSigV4(req(auth('AKIAOTHER', 'bedrock', 'host;x-amz-date')), 'bedrock', now)).toBeNull();
    expect(checkSigV4(req(auth('AKIAOTHER', 's3', 'host;x-amz-date')), 'bedrock', now)?.message).toContain(
      "scoped to correct service: 'bedrock'",
    );
    expect(checkSigV4(req(auth('AKIAOTHER', 'bedrock', 'host')), 'bedrock', now)?.type).toBe(
      'InvalidSignatureException',
    );
    expect(
      checkSigV4(req(auth('AKIAOTHER', 'bedrock', 'host;x-amz-date')), 'bedrock', now + 10 * 60_000)?.message,
    ).toContain('Signature expired');
    expect(
      checkSigV4(
        req(auth(BEDROCK_TEST_CREDENTIALS.accessKeyId, 'bedrock', 'host;x-amz-date')),
        'bedrock',
        now,
      )?.message,
    ).toContain('does not match the signature you provided');
  });
});

describe('bedrock faults', () => {
  it('a status fault answers in the AWS shape with x-amzn-errortype and retry-after; malformed breaks the frames', async () => {
    sim.setFaults([
      { match: { model: 'busy' }, times: 1, fault: { kind: 'status', status: 429, retryAfterSeconds: 3 } },
    ]);
    const r = await converse(hello, 'busy');
    expect(r.status).toBe(429);
    expect(r.headers['x-amzn-errortype']).toMatch(/^ThrottlingException:/);
    expect(r.headers['retry-after']).toBe('3');
    expect(JSON.parse(r.text)).toEqual({ message: 'Too many requests, please wait before trying again.' });
    sim.setFaults([{ times: 1, fault: { kind: 'malformed-json' } }]);
    const m = await post('/model/m/converse-stream', hello);
    expect(m.status).toBe(200);
    expect(() => frames(m.bytes)).toThrow();
  });
});
