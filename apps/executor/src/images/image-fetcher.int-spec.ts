import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletionRequest, ImagesConfig } from '@gw/contracts';
import { ImageFetcher } from './image-fetcher.js';

/** The image fetcher against a real local HTTP server (127.0.0.1, so reachable only when private hosts are allowed). */

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
let server: Server;
let base: string;
let port: number;
const hits = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === '/cat.png')
      return void res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length }).end(PNG);
    if (path === '/page.html')
      return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
    if (path === '/missing.png') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('no');
    if (path === '/big-declared.png')
      return void res
        .writeHead(200, { 'content-type': 'image/png', 'content-length': 5000 })
        .end(Buffer.alloc(5000));
    if (path === '/big-chunked.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1000));
      return void res.end();
    }
    if (path === '/redirect') return void res.writeHead(302, { location: '/cat.png' }).end();
    if (path.startsWith('/loop')) return void res.writeHead(302, { location: `/loop${path.length}` }).end();
    if (path === '/hang.png') return; // never answers
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const cfg = (c: Partial<ImagesConfig> = {}): ImagesConfig => ({
  allowPrivateHosts: true,
  maxBytes: 2048,
  timeoutMs: 2_000,
  ...c,
});
const withImages = (...urls: string[]) =>
  ({
    model: 'm',
    messages: [
      { role: 'system', content: 'be brief' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'look' },
          ...urls.map((url) => ({ type: 'image_url', image_url: { url, detail: 'low' } })),
        ],
      },
    ],
  }) as ChatCompletionRequest;

async function refusal(fetcher: ImageFetcher, url: string) {
  return fetcher.inline(withImages(url)).then(
    () => null,
    (e: unknown) => e as { code: string; status: number; param: string; message: string },
  );
}

describe('image fetching, private hosts allowed by config', () => {
  const fetcher = new ImageFetcher(cfg());
  afterAll(() => fetcher.close());

  it('http URLs become base64 data URLs with the served type; a URL given twice is fetched once; other parts stay', async () => {
    hits.clear();
    const out = await fetcher.inline(
      withImages(`${base}/cat.png`, `${base}/cat.png`, 'data:image/gif;base64,R0lGOD=='),
    );
    const parts = out.messages[1]!.content as Array<{
      type: string;
      image_url?: { url: string; detail?: string };
    }>;
    expect(parts[1]!.image_url).toEqual({
      url: `data:image/png;base64,${PNG.toString('base64')}`,
      detail: 'low',
    });
    expect(parts[2]!.image_url!.url).toBe(parts[1]!.image_url!.url);
    expect(parts[3]!.image_url!.url).toBe('data:image/gif;base64,R0lGOD==');
    expect(parts[0]).toEqual({ type: 'text', text: 'look' });
    expect(hits.get('/cat.png')).toBe(1);
  });

  it('a request without image URLs is returned as it is', async () => {
    const req = withImages('data:image/png;base64,AAAA');
    expect(await fetcher.inline(req)).toBe(req);
  });

  it('follows a redirect; refuses a redirect loop', async () => {
    const out = await fetcher.inline(withImages(`${base}/redirect`));
    expect(
      (out.messages[1]!.content as Array<{ image_url?: { url: string } }>)[1]!.image_url!.url.startsWith(
        'data:image/png;base64,',
      ),
    ).toBe(true);
    expect(await refusal(fetcher, `${base}/loop`)).toMatchObject({
      code: 'INVALID_REQUEST',
      message: expect.stringContaining('redirects') as string,
    });
  });

  it('size cap: a declared length over the cap, and a body that grows over it, are 400s naming the part', async () => {
    for (const path of ['/big-declared.png', '/big-chunked.png']) {
      expect(await refusal(fetcher, `${base}${path}`)).toMatchObject({
        code: 'INVALID_REQUEST',
        status: 400,
        param: 'messages[1].content[1]',
        message: expect.stringContaining('larger than 2048 bytes') as string,
      });
    }
  });

  it('not an image, an error status, nobody listening: 400s', async () => {
    expect(await refusal(fetcher, `${base}/page.html`)).toMatchObject({
      message: expect.stringContaining('text/html, not image/*') as string,
    });
    expect(await refusal(fetcher, `${base}/missing.png`)).toMatchObject({
      message: expect.stringContaining('answered 404') as string,
    });
    expect(await refusal(fetcher, 'http://127.0.0.1:9/x.png')).toMatchObject({
      message: expect.stringContaining('cannot be reached') as string,
    });
  });

  it('timeout: a server that never answers is a 400 after timeoutMs', async () => {
    const quick = new ImageFetcher(cfg({ timeoutMs: 300 }));
    expect(await refusal(quick, `${base}/hang.png`)).toMatchObject({
      code: 'INVALID_REQUEST',
      message: expect.stringContaining('no answer within 300 ms') as string,
    });
    await quick.close();
  });
});

describe('image fetching, private hosts not allowed (the default)', () => {
  const fetcher = new ImageFetcher(cfg({ allowPrivateHosts: false }));
  afterAll(() => fetcher.close());

  it('IP literals: loopback v4, v6, mapped v4 are refused before any connection', async () => {
    hits.clear();
    for (const url of [
      `${base}/cat.png`,
      `http://[::1]:${port}/cat.png`,
      `http://[::ffff:127.0.0.1]:${port}/cat.png`,
      'http://169.254.169.254/latest/meta-data',
    ]) {
      expect(await refusal(fetcher, url)).toMatchObject({
        code: 'INVALID_REQUEST',
        param: 'messages[1].content[1]',
        message: expect.stringContaining('private address') as string,
      });
    }
    expect(hits.get('/cat.png')).toBeUndefined();
  });

  it('a host name is checked on the address it resolves to (localhost → loopback): refused, the server never hit', async () => {
    hits.clear();
    expect(await refusal(fetcher, `http://localhost:${port}/cat.png`)).toMatchObject({
      message: expect.stringContaining('resolves to a private address') as string,
    });
    expect(hits.size).toBe(0);
  });

  it('only http and https', async () => {
    expect(await refusal(fetcher, 'https://')).toMatchObject({ code: 'INVALID_REQUEST' });
    const file = await fetcher.inline(withImages('file:///etc/passwd'));
    // not an http(s) URL: left for the adapter, which refuses it
    expect((file.messages[1]!.content as Array<{ image_url?: { url: string } }>)[1]!.image_url!.url).toBe(
      'file:///etc/passwd',
    );
  });
});
