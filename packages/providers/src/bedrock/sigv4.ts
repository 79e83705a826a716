import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4 (header form) with node:crypto, no AWS SDK. Verified against AWS's published test suite
 * (sigv4.spec.ts). What it signs: the method, the path (each segment URI-encoded once more, as every service but
 * S3 wants), the sorted query, every header given plus `host` and `x-amz-date` (and `x-amz-security-token` with
 * temporary credentials), and the SHA-256 of the exact body bytes that will be sent.
 */

export type AwsCredentials = {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
};

export type SignInput = {
  method: string;
  url: string;
  /** headers to send and sign (names in any case) */
  headers: Record<string, string>;
  body: string | Uint8Array;
  region: string;
  service: string;
  credentials: AwsCredentials;
  /** epoch ms of the signature (default: now) */
  now?: number;
  /** encode the path segments once more (default true; the test suite's vectors are for S3-style single encoding) */
  doubleEncodePath?: boolean;
};

export type Signed = {
  /** the headers to send: the input headers plus x-amz-date, x-amz-security-token, authorization (host is signed, not returned) */
  headers: Record<string, string>;
  canonicalRequest: string;
  stringToSign: string;
};

const ALGORITHM = 'AWS4-HMAC-SHA256';
const keyCache = new Map<string, Buffer>();

/** RFC 3986 encoding (encodeURIComponent leaves !'()* alone; AWS does not). */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** The signing key of a day, region and service (cached: it changes once a day). */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${secret}\u0000${date}\u0000${region}\u0000${service}`;
  const hit = keyCache.get(id);
  if (hit) return hit;
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  if (keyCache.size > 64) keyCache.clear();
  keyCache.set(id, key);
  return key;
}

/** `20150830T123600Z` */
export function amzDate(epochMs: number): string {
  return new Date(epochMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function canonicalPath(pathname: string, doubleEncode: boolean): string {
  if (!doubleEncode) return pathname || '/';
  return (pathname || '/')
    .split('/')
    .map((segment) => uriEncode(segment))
    .join('/');
}

function canonicalQuery(search: string): string {
  if (!search || search === '?') return '';
  const pairs: Array<[string, string]> = [];
  for (const part of search.replace(/^\?/, '').split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    pairs.push([uriEncode(k), uriEncode(v)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

export function signV4(input: SignInput): Signed {
  const url = new URL(input.url);
  const stamp = amzDate(input.now ?? Date.now());
  const date = stamp.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers)) headers[k.toLowerCase()] = v;
  delete headers['authorization'];
  headers['host'] = url.host;
  headers['x-amz-date'] = stamp;
  if (input.credentials.sessionToken) headers['x-amz-security-token'] = input.credentials.sessionToken;

  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((n) => `${n}:${headers[n]!.trim().replace(/\s+/g, ' ')}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    input.method.toUpperCase(),
    canonicalPath(url.pathname, input.doubleEncodePath ?? true),
    canonicalQuery(url.search),
    canonicalHeaders,
    signedHeaders,
    sha256Hex(input.body),
  ].join('\n');
  const scope = `${date}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = [ALGORITHM, stamp, scope, sha256Hex(canonicalRequest)].join('\n');
  const signature = createHmac(
    'sha256',
    signingKey(input.credentials.secretAccessKey, date, input.region, input.service),
  )
    .update(stringToSign, 'utf8')
    .digest('hex');
  headers['authorization'] =
    `${ALGORITHM} Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  // the HTTP client writes Host from the URL (the same value); some clients refuse it as a header
  delete headers['host'];
  return { headers, canonicalRequest, stringToSign };
}
