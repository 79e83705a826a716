import { GatewayError } from '@gw/contracts';
import { describe, expect, it } from 'vitest';
import { contentOf, ctx, reasoningOf, translate, wire } from '../shared/spec-helpers.js';
import { adapter } from './index.js';

const run = (file: string, pieceSize = 61) => {
  const t = adapter.chat.createStreamTranslator(ctx);
  return { chunks: translate(wire(file, { eventLines: true }), t, pieceSize), t };
};

describe('CohereStreamTranslator on real captures', () => {
  it('text: role chunk, content deltas, finish stop, then a usage chunk; done at message-end', () => {
    for (const size of [7, 61, 4096]) {
      const { chunks, t } = run('cohere/cohere-text.chunks.txt', size);
      expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
      expect(contentOf(chunks)).toContain('Paris');
      const finish = chunks.filter((c) => c.choices[0]?.finish_reason);
      expect(finish.map((c) => c.choices[0]!.finish_reason)).toEqual(['stop']);
      const last = chunks.at(-1)!;
      expect(last.choices).toEqual([]);
      expect(last.usage).toEqual({ prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 });
      expect(t.usage()).toEqual(last.usage);
      expect(t.done()).toBe(true);
    }
  });
  it('tool calls: two calls with indices 0 and 1, ids and names first, argument deltas, tool_plan not content', () => {
    const { chunks } = run('cohere/cohere-tool-call.chunks.txt');
    expect(contentOf(chunks)).toBe('');
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    const args = ['', ''];
    for (const c of calls) args[c.index] += c.function?.arguments ?? '';
    expect(calls.filter((c) => c.id).map((c) => [c.index, c.id, c.function?.name])).toEqual([
      [0, 'weather_e8p4pn45zt0t', 'weather'],
      [1, 'cityAttractions_pyxssbwnq9fq', 'cityAttractions'],
    ]);
    expect(args.map((a) => JSON.parse(a) as unknown)).toEqual([
      { location: 'San Francisco' },
      { city: 'San Francisco' },
    ]);
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]!.finish_reason).toBe('tool_calls');
  });
  it('a tool call without argument deltas gets {}', () => {
    const { chunks } = run('cohere/cohere-empty-tool-call.chunks.txt');
    const args = chunks
      .flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
      .map((c) => c.function?.arguments ?? '')
      .join('');
    expect(args).toBe('{}');
  });
  it('reasoning: thinking deltas → reasoning_content, then text', () => {
    const { chunks } = run('cohere/cohere-reasoning.chunks.txt');
    expect(reasoningOf(chunks).length).toBeGreaterThan(10);
    expect(contentOf(chunks).length).toBeGreaterThan(0);
  });
  it('a stream cut before message-end is not done; errors and strays are GatewayErrors', () => {
    const text = wire('cohere/cohere-text.chunks.txt', { eventLines: true });
    const t = adapter.chat.createStreamTranslator(ctx);
    translate(text.slice(0, text.indexOf('event: message-end')), t);
    expect(t.done()).toBe(false);
    expect(t.usage()).toBeNull();
    const u = adapter.chat.createStreamTranslator(ctx);
    expect(() =>
      u.push({ event: 'tool-call-delta', data: '{"type":"tool-call-delta","index":3,"delta":{}}' }),
    ).toThrow(GatewayError);
    expect(() => u.push({ data: '{not json' })).toThrow(GatewayError);
    let err: unknown;
    try {
      u.push({ event: 'error', data: '{"type":"error","message":"internal server error"}' });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'PROVIDER_ERROR', retryable: true });
  });
});
