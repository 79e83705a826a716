import { describe, expect, it } from 'vitest';
import { AnthropicMessagesRequest, GatewayError, type ChatCompletionRequest } from '@gw/contracts';
import { fromAnthropicRequest } from './request.js';

const DROP = { unsupportedParams: 'drop' } as const;
const REJECT = { unsupportedParams: 'reject' } as const;

function translate(
  body: unknown,
  opts: { unsupportedParams: 'drop' | 'reject' } = DROP,
): ChatCompletionRequest {
  return fromAnthropicRequest(AnthropicMessagesRequest.parse(body), opts);
}

function error(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('Anthropic request → internal request', () => {
  it('maps system (string and blocks), max_tokens, sampling, stop sequences and metadata', () => {
    const r = translate({
      model: 'm',
      max_tokens: 100,
      system: 'Be terse.',
      messages: [{ role: 'user', content: 'Hi' }],
      temperature: 0.3,
      top_p: 0.9,
      stop_sequences: ['END'],
      metadata: { user_id: 'u-1' },
    });
    expect(r).toEqual({
      model: 'm',
      max_tokens: 100,
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'Hi' },
      ],
      temperature: 0.3,
      top_p: 0.9,
      stop: ['END'],
      user: 'u-1',
    });
    const blocks = translate({
      model: 'm',
      max_tokens: 5,
      system: [
        { type: 'text', text: 'A', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'B' },
      ],
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(blocks.messages[0]).toEqual({
      role: 'system',
      content: [
        { type: 'text', text: 'A' },
        { type: 'text', text: 'B' },
      ],
    });
  });

  it('asks for usage on streams (message_delta carries the counts)', () => {
    const r = translate({
      model: 'm',
      max_tokens: 5,
      stream: true,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(r.stream).toBe(true);
    expect(r.stream_options).toEqual({ include_usage: true });
  });

  it('maps images (base64 and url), tool_use and tool_result (errors and images), in order', () => {
    const r = translate({
      model: 'm',
      max_tokens: 50,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.jpg' } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'let me look', signature: 'sig' },
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'look', input: { q: 1 } },
            { type: 'tool_use', id: 'toolu_2', name: 'look', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_2',
              is_error: true,
              content: [{ type: 'text', text: 'boom' }],
            },
            { type: 'text', text: 'And now?' },
          ],
        },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_3',
              content: [{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }],
            },
          ],
        },
      ],
    });
    expect(r.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } },
          { type: 'image_url', image_url: { url: 'https://example.com/a.jpg' } },
        ],
      },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'look', arguments: '{"q":1}' } },
          { id: 'toolu_2', type: 'function', function: { name: 'look', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'Error: boom' },
      { role: 'user', content: 'And now?' },
      {
        role: 'tool',
        tool_call_id: 'toolu_3',
        content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }],
      },
    ]);
  });

  it('maps tools and every tool_choice', () => {
    const tools = [
      {
        name: 'get_weather',
        description: 'Weather',
        input_schema: { type: 'object', properties: { city: { type: 'string' } } },
      },
    ];
    const base = { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], tools };
    const r = translate({ ...base, tool_choice: { type: 'auto' } });
    expect(r.tools).toEqual([
      {
        type: 'function',
        function: { name: 'get_weather', description: 'Weather', parameters: tools[0]!.input_schema },
      },
    ]);
    expect(r.tool_choice).toBe('auto');
    expect(translate({ ...base, tool_choice: { type: 'any' } }).tool_choice).toBe('required');
    expect(translate({ ...base, tool_choice: { type: 'none' } }).tool_choice).toBe('none');
    const named = translate({
      ...base,
      tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
    });
    expect(named.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
    expect(named.parallel_tool_calls).toBe(false);
    expect(
      error(() =>
        translate({
          model: 'm',
          max_tokens: 5,
          messages: [{ role: 'user', content: 'x' }],
          tool_choice: { type: 'any' },
        }),
      ).param,
    ).toBe('tool_choice');
  });

  it('maps thinking budgets to reasoning_effort, and refuses a budget not below max_tokens', () => {
    const r = (budget: number) =>
      translate({
        model: 'm',
        max_tokens: 32000,
        thinking: { type: 'enabled', budget_tokens: budget },
        messages: [{ role: 'user', content: 'x' }],
      });
    expect(r(1024)['reasoning_effort']).toBe('low');
    expect(r(8000)['reasoning_effort']).toBe('medium');
    expect(r(20000)['reasoning_effort']).toBe('high');
    expect(
      translate({
        model: 'm',
        max_tokens: 5,
        thinking: { type: 'disabled' },
        messages: [{ role: 'user', content: 'x' }],
      })['reasoning_effort'],
    ).toBeUndefined();
    expect(
      error(() =>
        translate({
          model: 'm',
          max_tokens: 2000,
          thinking: { type: 'enabled', budget_tokens: 2000 },
          messages: [{ role: 'user', content: 'x' }],
        }),
      ).status,
    ).toBe(400);
  });

  it('maps adaptive thinking and output_config (effort, json_schema format), and drops hints', () => {
    const base = { model: 'm', max_tokens: 4000, messages: [{ role: 'user', content: 'x' }] };
    expect(translate({ ...base, thinking: { type: 'adaptive' } })['reasoning_effort']).toBe('medium');
    expect(
      translate({ ...base, thinking: { type: 'adaptive' }, output_config: { effort: 'max' } })[
        'reasoning_effort'
      ],
    ).toBe('high');
    expect(translate({ ...base, output_config: { effort: 'low' } })['reasoning_effort']).toBe('low');
    expect(
      translate({ ...base, thinking: { type: 'disabled' }, output_config: { effort: 'low' } })[
        'reasoning_effort'
      ],
    ).toBeUndefined();
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    expect(
      translate({ ...base, output_config: { format: { type: 'json_schema', schema } } }).response_format,
    ).toEqual({ type: 'json_schema', json_schema: { name: 'response', schema } });
    const hinted = translate({
      ...base,
      cache_control: { type: 'ephemeral' },
      speed: 'fast',
      inference_geo: 'us',
      service_tier: 'auto',
    });
    expect(Object.keys(hinted).sort()).toEqual(['max_tokens', 'messages', 'model']);
  });

  it('maps documents: base64 PDF to a file part, plain text to text, and refuses URLs', () => {
    const doc = (source: unknown) => ({
      model: 'm',
      max_tokens: 5,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'document', source },
            { type: 'text', text: 'sum up' },
          ],
        },
      ],
    });
    expect(
      translate(doc({ type: 'base64', media_type: 'application/pdf', data: 'JVBER' })).messages[0],
    ).toEqual({
      role: 'user',
      content: [
        { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBER' } },
        { type: 'text', text: 'sum up' },
      ],
    });
    expect(translate(doc({ type: 'text', media_type: 'text/plain', data: 'hello' })).messages[0]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'hello' },
        { type: 'text', text: 'sum up' },
      ],
    });
    expect(error(() => translate(doc({ type: 'url', url: 'https://x/a.pdf' }))).param).toBe(
      'messages.0.content.0',
    );
  });

  it('drops top_k, or refuses it per the switch', () => {
    const body = { model: 'm', max_tokens: 5, top_k: 40, messages: [{ role: 'user', content: 'x' }] };
    expect(translate(body)['top_k']).toBeUndefined();
    const e = error(() => translate(body, REJECT));
    expect(e).toMatchObject({ code: 'INVALID_REQUEST', param: 'top_k' });
  });

  it('refuses what the internal request cannot carry, with the parameter named', () => {
    expect(
      error(() =>
        translate({
          model: 'm',
          max_tokens: 5,
          stop_sequences: ['a', 'b', 'c', 'd', 'e'],
          messages: [{ role: 'user', content: 'x' }],
        }),
      ).param,
    ).toBe('stop_sequences');
    expect(
      error(() =>
        translate({
          model: 'm',
          max_tokens: 5,
          messages: [{ role: 'user', content: [{ type: 'tool_use', id: 't', name: 'n', input: {} }] }],
        }),
      ).param,
    ).toBe('messages.0.content.0');
    expect(
      error(() =>
        translate({
          model: 'm',
          max_tokens: 5,
          messages: [{ role: 'assistant', content: [{ type: 'tool_result', tool_use_id: 't' }] }],
        }),
      ).status,
    ).toBe(400);
    expect(
      error(() => translate({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: [] }] })).param,
    ).toBe('messages.0.content');
  });
});

describe('the Anthropic request schema', () => {
  it('requires model, max_tokens and messages, and refuses unknown fields and bad blocks', () => {
    expect(
      AnthropicMessagesRequest.safeParse({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).success,
    ).toBe(false);
    expect(
      AnthropicMessagesRequest.safeParse({ max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
        .success,
    ).toBe(false);
    expect(AnthropicMessagesRequest.safeParse({ model: 'm', max_tokens: 5, messages: [] }).success).toBe(
      false,
    );
    expect(
      AnthropicMessagesRequest.safeParse({
        model: 'm',
        max_tokens: 5,
        messages: [{ role: 'system', content: 'x' }],
      }).success,
    ).toBe(false);
    expect(
      AnthropicMessagesRequest.safeParse({
        model: 'm',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
        frequency_penalty: 1,
      }).success,
    ).toBe(false);
    expect(
      AnthropicMessagesRequest.safeParse({
        model: 'm',
        max_tokens: 5,
        messages: [{ role: 'user', content: [{ type: 'video' }] }],
      }).success,
    ).toBe(false);
    expect(
      AnthropicMessagesRequest.safeParse({
        model: 'm',
        max_tokens: 5,
        temperature: 1.5,
        messages: [{ role: 'user', content: 'x' }],
      }).success,
    ).toBe(false);
    expect(
      AnthropicMessagesRequest.safeParse({
        model: 'm',
        max_tokens: 5,
        thinking: { type: 'enabled', budget_tokens: 10 },
        messages: [{ role: 'user', content: 'x' }],
      }).success,
    ).toBe(false);
  });
});
