import { describe, expect, it } from 'vitest';
import { ERROR_CODES, GatewayError } from '@gw/contracts';
import { parseJsonBody } from '../http/json-body.js';
import { anthropicError } from './anthropic-error.js';
import { anthropicMessagesFormat } from './anthropic-format.js';

const format = anthropicMessagesFormat('drop');
const body = (v: unknown) => parseJsonBody(Buffer.from(JSON.stringify(v)));

describe('anthropicError', () => {
  it('maps every gateway code to the Anthropic shape with the code’s status', () => {
    const types = new Set([
      'invalid_request_error',
      'authentication_error',
      'permission_error',
      'not_found_error',
      'request_too_large',
      'rate_limit_error',
      'api_error',
      'overloaded_error',
    ]);
    for (const code of ERROR_CODES) {
      const { status, body: b } = anthropicError(new GatewayError(code, `m-${code}`));
      expect(status).toBe(new GatewayError(code, 'x').status);
      expect(b.type).toBe('error');
      expect(types.has(b.error.type)).toBe(true);
      expect(b.error.message).toBe(`m-${code}`);
    }
    expect(anthropicError(new GatewayError('UNAUTHENTICATED', 'bad key'))).toMatchObject({
      status: 401,
      body: { error: { type: 'authentication_error' } },
    });
    expect(anthropicError(new GatewayError('MODEL_NOT_FOUND', 'no'))).toMatchObject({
      status: 404,
      body: { error: { type: 'not_found_error' } },
    });
    expect(anthropicError(new GatewayError('RATE_LIMITED', 'slow'))).toMatchObject({
      status: 429,
      body: { error: { type: 'rate_limit_error' } },
    });
    expect(anthropicError(new GatewayError('SERVICE_UNAVAILABLE', 'x')).body.error.type).toBe(
      'overloaded_error',
    );
    expect(
      anthropicError(new GatewayError('INVALID_REQUEST', 'must be set', { param: 'max_tokens' })).body.error
        .message,
    ).toBe('max_tokens: must be set');
    expect(anthropicError(new GatewayError('INTERNAL', 'x', { status: 200 })).status).toBe(500);
  });
});

describe('the Anthropic wire format', () => {
  it('accepts a Messages body as an internal request whose bytes are the translation', () => {
    const a = format.accept(
      body({
        model: 'm',
        max_tokens: 10,
        system: 'S',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      }),
    );
    expect(a.chat).toMatchObject({
      model: 'm',
      max_tokens: 10,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(JSON.parse(a.raw.toString('utf8'))).toEqual(a.chat);
    expect(a.cacheBody).toBe(a.chat);
  });

  it('refuses a bad body with a 400 naming the parameter', () => {
    try {
      format.accept(body({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }));
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'INVALID_REQUEST', param: 'max_tokens' });
    }
    expect(() =>
      format.accept(body({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'hi' }], n: 2 })),
    ).toThrow(GatewayError);
  });

  it('encodes answers, streams and mid-stream errors', () => {
    const completion = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'u',
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    };
    const out = JSON.parse(String(format.response(Buffer.from(JSON.stringify(completion))))) as Record<
      string,
      unknown
    >;
    expect(out).toMatchObject({
      type: 'message',
      content: [{ type: 'text', text: 'ok' }],
      stop_reason: 'end_turn',
    });

    const s = format.stream('r1');
    const first = String(
      s.chunk(
        Buffer.from(
          JSON.stringify({
            id: 'chatcmpl-2',
            object: 'chat.completion.chunk',
            created: 1,
            model: 'u',
            choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }],
          }),
        ),
      ),
    );
    expect(first).toMatch(/^event: message_start\ndata: \{.*\}\n\nevent: content_block_start\n/);
    expect(first).toContain(
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n',
    );
    expect(String(s.end())).toMatch(
      /event: content_block_stop\n[\s\S]*event: message_delta\n[\s\S]*event: message_stop\ndata: \{"type":"message_stop"\}\n\n$/,
    );
    expect(s.fail(new GatewayError('PROVIDER_TIMEOUT', 'too slow'))).toBe(
      'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"too slow"}}\n\n',
    );
  });
});
