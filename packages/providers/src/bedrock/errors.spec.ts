import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseError } from './errors.js';

const coral = (name: string) => ({
  'x-amzn-errortype': `${name}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
});

describe('bedrock error mapping', () => {
  it('the real 400 capture (invalid model id, errortype header stripped by the recorder) → INVALID_REQUEST with the message', () => {
    const doc = parse(
      readFileSync(new URL('../../test/fixtures/bedrock/test_bedrock_error.yaml', import.meta.url), 'utf8'),
    ) as {
      interactions: Array<{ response: { status: { code: number }; parsed_body: unknown } }>;
    };
    const r = doc.interactions[0]!.response;
    const e = parseError(r.status.code, JSON.stringify(r.parsed_body), {});
    expect(e).toMatchObject({
      code: 'INVALID_REQUEST',
      status: 400,
      retryable: false,
      message: 'The provided model identifier is invalid.',
    });
  });

  it.each([
    [
      400,
      'ValidationException',
      'Malformed input request',
      { code: 'INVALID_REQUEST', status: 400, retryable: false },
    ],
    [
      400,
      'ValidationException',
      'Input is too long for requested model.',
      { code: 'CONTEXT_WINDOW_EXCEEDED', retryable: true },
    ],
    [
      403,
      'AccessDeniedException',
      'You don\u0027t have access to the model',
      { code: 'PROVIDER_ERROR', status: 502, retryable: false },
    ],
    [
      403,
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
      { code: 'PROVIDER_ERROR', retryable: false },
    ],
    [
      404,
      'ResourceNotFoundException',
      'Model not found',
      { code: 'PROVIDER_ERROR', status: 502, retryable: true },
    ],
    [
      429,
      'ThrottlingException',
      'Too many requests, please wait before trying again.',
      { code: 'PROVIDER_RATE_LIMITED', status: 429, retryable: true },
    ],
    [400, 'ServiceQuotaExceededException', 'quota', { code: 'PROVIDER_RATE_LIMITED', retryable: true }],
    [408, 'ModelTimeoutException', 'timeout', { code: 'PROVIDER_TIMEOUT', status: 504, retryable: true }],
    [
      503,
      'ServiceUnavailableException',
      'unavailable',
      { code: 'PROVIDER_UNAVAILABLE', status: 503, retryable: true },
    ],
    [429, 'ModelNotReadyException', 'not ready', { code: 'PROVIDER_UNAVAILABLE', retryable: true }],
    [500, 'InternalServerException', 'oops', { code: 'PROVIDER_ERROR', retryable: true }],
    [424, 'ModelErrorException', 'model failed', { code: 'PROVIDER_ERROR', retryable: true }],
  ])('%i %s', (status, type, message, want) => {
    expect(parseError(status, JSON.stringify({ message }), coral(type))).toMatchObject(want);
  });

  it('the exception may be named by the body __type; the status decides without a name; retry-after is carried', () => {
    expect(
      parseError(400, '{"__type":"com.amazon.coral.validate#ValidationException","Message":"bad"}', {}),
    ).toMatchObject({ code: 'INVALID_REQUEST', message: 'bad' });
    expect(parseError(429, '{"message":"slow"}', { 'retry-after': '4' })).toMatchObject({
      code: 'PROVIDER_RATE_LIMITED',
      retryAfterSeconds: 4,
    });
    expect(parseError(503, 'gateway html', {})).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(parseError(418, '', {})).toMatchObject({ code: 'PROVIDER_ERROR', status: 502, retryable: false });
  });

  it('credential errors never pass the upstream message on', () => {
    const e = parseError(
      403,
      '{"message":"Signature for AKIAXXXX does not match"}',
      coral('InvalidSignatureException'),
    );
    expect(e.message).not.toContain('AKIA');
  });
});
