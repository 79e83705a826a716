import { describe, expect, it } from 'vitest';
import { ERROR_CODES, GatewayError } from '@gw/contracts';
import { openAIError, paramPath, toGatewayError } from './openai-error.js';
import { parseJsonBody, requireJsonBody, JsonBody } from './json-body.js';

describe('openAIError', () => {
  it('maps every gateway code to the OpenAI shape with the code’s status', () => {
    for (const code of ERROR_CODES) {
      const { status, body } = openAIError(new GatewayError(code, `m-${code}`));
      expect(status).toBe(new GatewayError(code, 'x').status);
      expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
      expect(body.error.message).toBe(`m-${code}`);
      expect(body.error.type).toMatch(/^[a-z_]+$/);
      expect(body.error.code).toMatch(/^[a-z_]+$/);
    }
  });

  it('uses OpenAI’s own codes where OpenAI has one', () => {
    expect(openAIError(new GatewayError('UNAUTHENTICATED', 'x')).body.error).toMatchObject({ code: 'invalid_api_key', type: 'invalid_request_error' });
    expect(openAIError(new GatewayError('MODEL_NOT_FOUND', 'x')).body.error.code).toBe('model_not_found');
    expect(openAIError(new GatewayError('MODERATION_BLOCKED', 'x'))).toMatchObject({ status: 403, body: { error: { code: 'content_policy_violation' } } });
    expect(openAIError(new GatewayError('SERVICE_UNAVAILABLE', 'x'))).toMatchObject({ status: 503, body: { error: { type: 'server_error' } } });
  });

  it('keeps param, and never sends a status outside 4xx/5xx', () => {
    expect(openAIError(new GatewayError('INVALID_REQUEST', 'x', { param: 'messages[0].role' })).body.error.param).toBe('messages[0].role');
    expect(openAIError(new GatewayError('INTERNAL', 'x', { status: 200 })).status).toBe(500);
  });
});

describe('paramPath', () => {
  it('joins keys with dots and indexes with brackets', () => {
    expect(paramPath(['messages', 0, 'content'])).toBe('messages[0].content');
    expect(paramPath(['model'])).toBe('model');
    expect(paramPath([])).toBeNull();
  });
});

describe('toGatewayError', () => {
  it('maps Fastify body errors by code and status, and hides anything unknown', () => {
    expect(toGatewayError({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }, 10)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', status: 413 });
    expect(toGatewayError({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }, 10)).toMatchObject({ code: 'INVALID_REQUEST', status: 415 });
    expect(toGatewayError({ statusCode: 415 }, 10).status).toBe(415);
    expect(toGatewayError({ statusCode: 404 }, 10).code).toBe('NOT_FOUND');
    const hidden = toGatewayError(new Error('password=hunter2'), 10);
    expect(hidden).toMatchObject({ code: 'INTERNAL', status: 500, message: 'internal error' });
    const gw = new GatewayError('RATE_LIMITED', 'slow down');
    expect(toGatewayError(gw, 10)).toBe(gw);
  });
});

describe('JSON bodies', () => {
  it('keeps the bytes and parses once', () => {
    const raw = Buffer.from('{"a":1}');
    const b = parseJsonBody(raw);
    expect(b.raw).toBe(raw);
    expect(b.value).toEqual({ a: 1 });
  });
  it('rejects empty and malformed bodies with a 400', () => {
    expect(() => parseJsonBody(Buffer.alloc(0))).toThrow(/empty/);
    try {
      parseJsonBody(Buffer.from('{bad'));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).status).toBe(400);
      expect((err as GatewayError).message).toMatch(/not valid JSON/);
    }
    expect(() => requireJsonBody(undefined)).toThrow(/missing/);
    expect(requireJsonBody(new JsonBody(Buffer.from('1'), 1)).value).toBe(1);
  });
});
