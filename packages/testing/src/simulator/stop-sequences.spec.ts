import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { startSimulator } from './server.js';
import { bedrockResponseFields, stopAt } from './stop-sequences.js';
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

async function post(path: string, body: unknown, headers: Record<string, string>) {
  const res = await request(`${sim.url}${path}`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.statusCode, text: Buffer.from(await res.body.arrayBuffer()).toString('utf8') };
}

describe('stopAt', () => {
  it('cuts before the earliest of the sequences, across pieces; no match keeps everything', () => {
    expect(stopAt(['Simulated', ' reply:', ' say', ' hi', ' STOP', ' more'], ['more', 'STOP'])).toEqual({
      pieces: ['Simulated', ' reply:', ' say', ' hi', ' '],
      matched: 'STOP',
    });
    expect(stopAt(['ab', 'cd'], ['bc'])).toEqual({ pieces: ['a'], matched: 'bc' });
    expect(stopAt(['ab', 'cd'], ['x', ''])).toEqual({ pieces: ['ab', 'cd'], matched: null });
    expect(stopAt(['ab'], undefined)).toEqual({ pieces: ['ab'], matched: null });
  });

  it('Bedrock fields: only for Anthropic models, only the requested path, in the stream`s delta shape', () => {
    const paths = ['/stop_sequence', '/delta/stop_sequence'];
    expect(bedrockResponseFields('anthropic.claude-v1', paths, 'X', false)).toEqual({ stop_sequence: 'X' });
    expect(bedrockResponseFields('anthropic.claude-v1', paths, 'X', true)).toEqual({ delta: { stop_sequence: 'X' } });
    expect(bedrockResponseFields('anthropic.claude-v1', ['/stop_sequence'], 'X', true)).toBeUndefined();
    expect(bedrockResponseFields('amazon.nova-micro-v1:0', paths, 'X', false)).toBeUndefined();
    expect(bedrockResponseFields('anthropic.claude-v1', undefined, 'X', false)).toBeUndefined();
  });
});

const user = 'say hi STOP and more';

describe('the simulator answers stop sequences in each wire format', () => {
  it('anthropic: stop_reason stop_sequence with the sequence, message and stream', async () => {
    const body = { model: 'claude-sim', max_tokens: 100, stop_sequences: ['STOP'], messages: [{ role: 'user', content: user }] };
    const headers = { 'anthropic-version': '2023-06-01', 'x-api-key': 'k' };
    const m = JSON.parse((await post('/v1/messages', body, headers)).text) as Record<string, unknown>;
    expect(m).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'STOP', content: [{ type: 'text', text: 'Simulated reply: say hi ' }] });
    const s = await post('/v1/messages', { ...body, stream: true }, headers);
    expect(s.text).toContain('"delta":{"stop_reason":"stop_sequence","stop_sequence":"STOP"}');
    expect(s.text).not.toContain('and more');
    const natural = JSON.parse((await post('/v1/messages', { ...body, stop_sequences: ['nowhere'] }, headers)).text) as Record<string, unknown>;
    expect(natural).toMatchObject({ stop_reason: 'end_turn', stop_sequence: null });
  });

  it('bedrock: stopReason stop_sequence, the sequence in additionalModelResponseFields when asked', async () => {
    const headers = { authorization: 'Bearer bedrock-api-key-sim' };
    const body = {
      messages: [{ role: 'user', content: [{ text: user }] }],
      inferenceConfig: { stopSequences: ['STOP'] },
      additionalModelResponseFieldPaths: ['/stop_sequence', '/delta/stop_sequence'],
    };
    const path = (model: string, action: string) => `/model/${encodeURIComponent(model)}/${action}`;
    const c = JSON.parse((await post(path('anthropic.claude-sim-v1:0', 'converse'), body, headers)).text) as Record<string, unknown>;
    expect(c).toMatchObject({ stopReason: 'stop_sequence', additionalModelResponseFields: { stop_sequence: 'STOP' } });
    const s = await post(path('anthropic.claude-sim-v1:0', 'converse-stream'), body, headers);
    expect(s.text).toContain('"stopReason":"stop_sequence","additionalModelResponseFields":{"delta":{"stop_sequence":"STOP"}}');
    const nova = JSON.parse((await post(path('amazon.nova-micro-v1:0', 'converse'), body, headers)).text) as Record<string, unknown>;
    expect(nova['stopReason']).toBe('stop_sequence');
    expect(nova).not.toHaveProperty('additionalModelResponseFields');
  });
});

describe('formats that do not name the sequence still stop at it', () => {
  it('cohere STOP_SEQUENCE, gemini STOP, openai stop: the reply cut before the sequence', async () => {
    const co = JSON.parse(
      (await post('/v2/chat', { model: 'cohere-sim', stop_sequences: ['STOP'], messages: [{ role: 'user', content: user }] }, { authorization: 'Bearer k' })).text,
    ) as { finish_reason: string; message: { content: Array<{ text: string }> } };
    expect(co.finish_reason).toBe('STOP_SEQUENCE');
    expect(co.message.content[0]!.text).toBe('Simulated reply: say hi ');

    const ge = JSON.parse(
      (await post('/v1beta/models/gemini-sim:generateContent', { contents: [{ role: 'user', parts: [{ text: user }] }], generationConfig: { stopSequences: ['STOP'] } }, { 'x-goog-api-key': 'k' })).text,
    ) as { candidates: Array<{ finishReason: string; content: { parts: Array<{ text: string }> } }> };
    expect(ge.candidates[0]!.finishReason).toBe('STOP');
    expect(ge.candidates[0]!.content.parts[0]!.text).toBe('Simulated reply: say hi ');

    const oa = JSON.parse(
      (await post('/v1/chat/completions', { model: 'gpt-sim', stop: 'STOP', messages: [{ role: 'user', content: user }] }, { authorization: 'Bearer k' })).text,
    ) as { choices: Array<{ finish_reason: string; message: { content: string } }> };
    expect(oa.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: 'Simulated reply: say hi ' } });
  });
});
