import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import {
  GatewayError,
  type ChatCompletionRequest,
  type ChatMessage,
  type ContentPart,
  type ImagesConfig,
} from '@gw/contracts';
import { Agent, request } from 'undici';
import { isPrivateAddress } from './address.js';

/**
 * Turns the http(s) image URLs of a request into base64 data URLs, for providers that take only bytes
 * (adapter.needsImageBytes). Rules (config `images`):
 * - only http and https; at most `maxBytes` (Content-Length checked first, then the bytes as they arrive);
 *   everything (redirects included) within `timeoutMs`; the answer must be 2xx with a Content-Type image/*.
 * - never from a private, loopback, link-local or unique-local address (address.ts) unless `allowPrivateHosts`. The
 *   check is made on the address the connection actually goes to: a host name is resolved by our own lookup,
 *   which refuses the name if any of its addresses is private, and the socket connects to the address that lookup
 *   returned, so a DNS answer that changes between a check and the connection (rebinding) cannot get through. IP
 *   literals are checked before the request; every redirect (at most 3) is a new request checked the same way.
 * - a failure is a 400 invalid_request_error naming the part (`messages[i].content[j]`); nothing is retried.
 * Images of one request are fetched in parallel; a URL given twice is fetched once.
 */

const MAX_REDIRECTS = 3;
const REFUSED = 'EGW_PRIVATE_ADDRESS';

class RefusedAddress extends Error {
  readonly code = REFUSED;
}

function refusingLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(
      hostname,
      { all: true, family: options.family ?? 0, hints: options.hints ?? 0 },
      (err, addresses: LookupAddress[]) => {
        if (err) return callback(err, '', 0);
        const bad = allowPrivate ? undefined : addresses.find((a) => isPrivateAddress(a.address));
        if (bad || addresses.length === 0)
          return callback(new RefusedAddress(`${hostname} resolves to a private address`), '', 0);
        if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
    );
  };
}

function isRefused(err: unknown): boolean {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === REFUSED) return true;
  }
  return false;
}

type Where = { param: string };

function fail(where: Where, why: string): GatewayError {
  return new GatewayError('INVALID_REQUEST', `${where.param}: cannot use the image URL: ${why}`, {
    param: where.param,
  });
}

export class ImageFetcher {
  private readonly agent: Agent;

  constructor(private readonly cfg: ImagesConfig) {
    this.agent = new Agent({
      connect: { lookup: refusingLookup(cfg.allowPrivateHosts), timeout: cfg.timeoutMs },
      keepAliveTimeout: 5_000,
      connections: 32,
    });
  }

  /** The request with every http(s) image URL replaced by a data URL (the same object when it has none). */
  async inline(req: ChatCompletionRequest, signal?: AbortSignal): Promise<ChatCompletionRequest> {
    const wanted = new Map<string, Where>();
    req.messages.forEach((m, i) => {
      if (typeof m.content === 'string' || !Array.isArray(m.content)) return;
      m.content.forEach((p, j) => {
        if (p.type === 'image_url' && /^https?:\/\//i.test(p.image_url.url) && !wanted.has(p.image_url.url))
          wanted.set(p.image_url.url, { param: `messages[${i}].content[${j}]` });
      });
    });
    if (wanted.size === 0) return req;
    const deadline = AbortSignal.timeout(this.cfg.timeoutMs);
    const abort = signal ? AbortSignal.any([signal, deadline]) : deadline;
    const fetched = new Map<string, string>();
    await Promise.all(
      [...wanted].map(async ([url, where]) => {
        fetched.set(url, await this.fetchOne(url, where, abort, deadline));
      }),
    );
    const messages = req.messages.map((m): ChatMessage => {
      if (typeof m.content === 'string' || !Array.isArray(m.content)) return m;
      const content: ContentPart[] = m.content.map((p) => {
        const data = p.type === 'image_url' ? fetched.get(p.image_url.url) : undefined;
        return data && p.type === 'image_url' ? { ...p, image_url: { ...p.image_url, url: data } } : p;
      });
      return { ...m, content };
    });
    return { ...req, messages };
  }

  private async fetchOne(
    first: string,
    where: Where,
    signal: AbortSignal,
    deadline: AbortSignal,
  ): Promise<string> {
    let url = first;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        throw fail(where, 'it is not a valid URL');
      }
      if (target.protocol !== 'http:' && target.protocol !== 'https:')
        throw fail(where, 'only http and https URLs are fetched');
      const host = target.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) && !this.cfg.allowPrivateHosts && isPrivateAddress(host))
        throw fail(where, 'the host is a private address');
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(target, {
          method: 'GET',
          dispatcher: this.agent,
          signal,
          headers: { accept: 'image/*' },
        });
      } catch (err) {
        if (isRefused(err)) throw fail(where, 'the host resolves to a private address');
        if (deadline.aborted) throw fail(where, `no answer within ${this.cfg.timeoutMs} ms`);
        if (signal.aborted) throw new GatewayError('CANCELLED', 'the client went away');
        throw fail(where, 'the host cannot be reached');
      }
      if (res.statusCode >= 300 && res.statusCode < 400 && typeof res.headers['location'] === 'string') {
        await res.body.dump();
        url = new URL(res.headers['location'], target).toString();
        continue;
      }
      return await this.readImage(res, where, signal, deadline);
    }
    throw fail(where, `more than ${MAX_REDIRECTS} redirects`);
  }

  private async readImage(
    res: Awaited<ReturnType<typeof request>>,
    where: Where,
    signal: AbortSignal,
    deadline: AbortSignal,
  ): Promise<string> {
    const max = this.cfg.maxBytes;
    const type = String(res.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    const length = Number(res.headers['content-length'] ?? NaN);
    const refuse = async (why: string) => {
      await res.body.dump().catch(() => undefined);
      return fail(where, why);
    };
    if (res.statusCode < 200 || res.statusCode >= 300)
      throw await refuse(`the server answered ${res.statusCode}`);
    if (!/^image\/[a-z0-9.+-]+$/.test(type))
      throw await refuse(`the content type is ${type || 'missing'}, not image/*`);
    if (length > max) throw await refuse(`it is larger than ${max} bytes`);
    const parts: Buffer[] = [];
    let size = 0;
    try {
      for await (const piece of res.body) {
        const b = piece as Buffer;
        size += b.length;
        if (size > max) {
          res.body.destroy();
          throw fail(where, `it is larger than ${max} bytes`);
        }
        parts.push(b);
      }
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      if (deadline.aborted) throw fail(where, `no answer within ${this.cfg.timeoutMs} ms`);
      if (signal.aborted) throw new GatewayError('CANCELLED', 'the client went away');
      throw fail(where, 'the download broke off');
    }
    return `data:${type};base64,${Buffer.concat(parts, size).toString('base64')}`;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
