import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * AWS's side of the Bedrock wire, written for the simulator: event-stream frames as ConverseStream sends them, and
 * a SigV4 check of the requests it receives. The simulator stands for AWS and does not import the gateway's code,
 * so this is a second, independent implementation: a mistake in the gateway's signer shows up as a 403 here.
 */

/** The simulator's own AWS test credentials: a request signed with them is verified, not only shape-checked. */
export const BEDROCK_TEST_CREDENTIALS = {
  accessKeyId: 'AKIASIMULATOR0000001',
  secretAccessKey: 'sim/secret/K7MDENG+bPxRfiCYSIMULATORKEY',
} as const;

/** One event-stream message: prelude (lengths + CRC), string headers (type 7), payload, message CRC. */
export function frame(headers: ReadonlyArray<[string, string]>, payload: string): Buffer {
  const head = Buffer.concat(
    headers.map(([name, value]) => {
      const n = Buffer.from(name, 'utf8');
      const v = Buffer.from(value, 'utf8');
      const len = Buffer.alloc(2);
      len.writeUInt16BE(v.length);
      return Buffer.concat([Buffer.from([n.length]), n, Buffer.from([7]), len, v]);
    }),
  );
  const body = Buffer.from(payload, 'utf8');
  const total = 12 + head.length + body.length + 4;
  const prelude = Buffer.alloc(12);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(head.length, 4);
  prelude.writeUInt32BE(crc32(prelude.subarray(0, 8)), 8);
  const withoutCrc = Buffer.concat([prelude, head, body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(withoutCrc));
  return Buffer.concat([withoutCrc, crc]);
}

export function eventFrame(type: string, payload: Record<string, unknown>): Buffer {
  // AWS pads every event with a `p` field of varying length (so sizes leak nothing); clients ignore it
  const padded = {
    ...payload,
    p: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.slice(0, 8 + (type.length % 20)),
  };
  return frame(
    [
      [':event-type', type],
      [':content-type', 'application/json'],
      [':message-type', 'event'],
    ],
    JSON.stringify(padded),
  );
}

export function exceptionFrame(type: string, message: string): Buffer {
  return frame(
    [
      [':exception-type', type],
      [':content-type', 'application/json'],
      [':message-type', 'exception'],
    ],
    JSON.stringify({ message }),
  );
}

/* ---------------- SigV4 check ---------------- */

export type AuthProblem = { status: 403; type: string; message: string };

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 5 * 60 * 1000;

const encode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const mac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** `20150830T123600Z` → epoch ms (NaN when malformed). */
function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : NaN;
}

/**
 * Checks a request's Authorization like Bedrock does: a bearer token (a Bedrock API key) passes; a SigV4 header
 * must be well formed (scope for this service, host and x-amz-date signed, a date within 5 minutes of now);
 * with the simulator's test access key, the signature is recomputed and must match. Null when the request passes.
 */
export function checkSigV4(
  req: {
    method: string;
    path: string;
    query: string;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
  },
  service: string,
  now = Date.now(),
): AuthProblem | null {
  const auth = first(req.headers['authorization']);
  if (!auth)
    return {
      status: 403,
      type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    };
  if (auth.startsWith('Bearer ') && auth.length > 'Bearer '.length) return null;
  const m = AUTH.exec(auth);
  if (!m)
    return {
      status: 403,
      type: 'IncompleteSignatureException',
      message: `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization=${auth.slice(0, 40)}`,
    };
  const [, accessKeyId, day, region, svc, signedList, signature] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (svc !== service)
    return {
      status: 403,
      type: 'InvalidSignatureException',
      message: `Credential should be scoped to correct service: '${service}'.`,
    };
  const signed = signedList.split(';');
  if (!signed.includes('host') || !signed.includes('x-amz-date'))
    return {
      status: 403,
      type: 'InvalidSignatureException',
      message: "'Host' and 'X-Amz-Date' must be signed headers.",
    };
  const stamp = first(req.headers['x-amz-date']) ?? '';
  const at = parseAmzDate(stamp);
  if (Number.isNaN(at))
    return {
      status: 403,
      type: 'IncompleteSignatureException',
      message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    };
  if (stamp.slice(0, 8) !== day)
    return {
      status: 403,
      type: 'InvalidSignatureException',
      message: `Credential should be scoped to a valid date: '${stamp.slice(0, 8)}'.`,
    };
  if (Math.abs(now - at) > MAX_SKEW_MS)
    return {
      status: 403,
      type: 'InvalidSignatureException',
      message: `Signature expired: ${stamp} is now earlier than the allowed window.`,
    };
  if (accessKeyId !== BEDROCK_TEST_CREDENTIALS.accessKeyId) return null; // a key the simulator cannot know: shape only

  const canonicalHeaders = signed
    .map((h) => `${h}:${(first(req.headers[h]) ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const query = req.query
    ? req.query
        .split('&')
        .filter((p) => p)
        .map((p) =>
          p
            .split('=')
            .map((x) => encode(decodeURIComponent(x)))
            .join('='),
        )
        .sort()
        .join('&')
    : '';
  const canonical = [
    req.method,
    req.path.split('/').map(encode).join('/'),
    query,
    canonicalHeaders,
    signedList,
    sha256(req.body),
  ].join('\n');
  const scope = `${day}/${region}/${svc}/aws4_request`;
  const toSign = `AWS4-HMAC-SHA256\n${stamp}\n${scope}\n${sha256(canonical)}`;
  const key = mac(
    mac(mac(mac(`AWS4${BEDROCK_TEST_CREDENTIALS.secretAccessKey}`, day), region), svc),
    'aws4_request',
  );
  const expected = createHmac('sha256', key).update(toSign).digest();
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
    return {
      status: 403,
      type: 'InvalidSignatureException',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    };
  }
  return null;
}
