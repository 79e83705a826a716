import { describe, expect, it } from 'vitest';
import { amzDate, signV4, uriEncode } from './sigv4.js';

/**
 * Vectors of AWS's Signature Version 4 test suite (aws-sig-v4-test-suite, as shipped with the AWS SDKs'
 * signature-v4 tests): credentials AKIDEXAMPLE, region us-east-1, service "service", 2015-08-30T12:36:00Z.
 * The suite's paths are raw (single, S3-style encoding), hence doubleEncodePath: false for them.
 */
const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const now = Date.UTC(2015, 7, 30, 12, 36, 0);
const scope = 'Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request';
const STS_TOKEN =
  'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==';

type Vector = {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  sessionToken?: string;
  authorization: string;
  canonical?: string;
};

const VECTORS: Vector[] = [
  {
    name: 'get-vanilla',
    method: 'GET',
    url: 'https://example.amazonaws.com/',
    headers: {},
    body: '',
    authorization: `AWS4-HMAC-SHA256 ${scope}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`,
  },
  {
    name: 'post-vanilla',
    method: 'POST',
    url: 'https://example.amazonaws.com/',
    headers: {},
    body: '',
    authorization: `AWS4-HMAC-SHA256 ${scope}, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b`,
    canonical:
      'POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  },
  {
    name: 'get-vanilla-query-order-key-case',
    method: 'GET',
    url: 'https://example.amazonaws.com/?Param2=value2&Param1=value1',
    headers: {},
    body: '',
    authorization: `AWS4-HMAC-SHA256 ${scope}, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500`,
  },
  {
    name: 'post-header-value-case',
    method: 'POST',
    url: 'https://example.amazonaws.com/',
    headers: { 'My-Header1': 'VALUE1' },
    body: '',
    authorization: `AWS4-HMAC-SHA256 ${scope}, SignedHeaders=host;my-header1;x-amz-date, Signature=cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d`,
  },
  {
    name: 'post-x-www-form-urlencoded (a signed body)',
    method: 'POST',
    url: 'https://example.amazonaws.com/',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'Param1=value1',
    authorization: `AWS4-HMAC-SHA256 ${scope}, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a`,
  },
  {
    name: 'post-sts-header-before (a session token, signed)',
    method: 'POST',
    url: 'https://example.amazonaws.com/',
    headers: {},
    body: '',
    sessionToken: STS_TOKEN,
    authorization: `AWS4-HMAC-SHA256 ${scope}, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead`,
  },
];

describe('SigV4 against the AWS test suite', () => {
  it.each(VECTORS)('$name', (v) => {
    const signed = signV4({
      method: v.method,
      url: v.url,
      headers: v.headers,
      body: v.body,
      region: 'us-east-1',
      service: 'service',
      credentials: { ...credentials, sessionToken: v.sessionToken },
      now,
      doubleEncodePath: false,
    });
    expect(signed.headers['authorization']).toBe(v.authorization);
    expect(signed.headers['x-amz-date']).toBe('20150830T123600Z');
    if (v.canonical) expect(signed.canonicalRequest).toBe(v.canonical);
    if (v.sessionToken) expect(signed.headers['x-amz-security-token']).toBe(v.sessionToken);
    else expect(signed.headers['x-amz-security-token']).toBeUndefined();
    // the client writes Host from the URL; it is signed but not returned
    expect(signed.headers['host']).toBeUndefined();
  });

  it('the same body bytes as a Uint8Array sign the same', () => {
    const base = {
      method: 'POST',
      url: 'https://example.amazonaws.com/',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      region: 'us-east-1',
      service: 'service',
      credentials,
      now,
      doubleEncodePath: false,
    };
    expect(
      signV4({ ...base, body: new TextEncoder().encode('Param1=value1') }).headers['authorization'],
    ).toBe(VECTORS[4]!.authorization);
    // another body, another signature
    expect(signV4({ ...base, body: 'Param1=value2' }).headers['authorization']).not.toBe(
      VECTORS[4]!.authorization,
    );
  });
});

describe('SigV4 for Bedrock', () => {
  it('encodes the path segments twice (a model id with ":" is %3A on the wire, %253A in the canonical request)', () => {
    const signed = signV4({
      method: 'POST',
      url: 'https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      region: 'us-east-1',
      service: 'bedrock',
      credentials,
      now,
    });
    expect(signed.canonicalRequest.split('\n')[1]).toBe(
      '/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse',
    );
    expect(signed.canonicalRequest).toContain('host:bedrock-runtime.us-east-1.amazonaws.com\n');
    expect(signed.stringToSign.split('\n')[2]).toBe('20150830/us-east-1/bedrock/aws4_request');
    expect(signed.headers['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20150830\/us-east-1\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
  });

  it('a non-default port is part of the signed host', () => {
    const signed = signV4({
      method: 'POST',
      url: 'http://127.0.0.1:8099/model/m/converse',
      headers: {},
      body: '',
      region: 'eu-west-1',
      service: 'bedrock',
      credentials,
      now,
    });
    expect(signed.canonicalRequest).toContain('host:127.0.0.1:8099\n');
  });

  it('uriEncode is RFC 3986; amzDate is the basic ISO format', () => {
    expect(uriEncode("a b!'()*:~")).toBe('a%20b%21%27%28%29%2A%3A~');
    expect(amzDate(now)).toBe('20150830T123600Z');
  });
});
