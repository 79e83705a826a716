import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contracts, GatewayConfig, type ProviderCredentialsResult } from '@gw/contracts';
import { seal } from '@gw/secrets';
import { connectNats, HotClient, HotServer } from '@gw/transport';
import type { NatsConnection } from '@nats-io/transport-node';
import { loadEnv } from '../config/env.js';
import { CredentialsSync } from './credentials.sync.js';
import { ProviderDirectory } from './provider-directory.js';

/*
 * The executor side of stored credentials over a private nats-server: an ingress double serves the sealed
 * credentials on the real contract; CredentialsSync opens them and the directory resolves with the stored key,
 * and a `credentials-changed` broadcast switches to the new version.
 */
const KEY = randomBytes(32);
let proc: ChildProcess;
let dir: string;
let url: string;
let nc: NatsConnection;
let server: HotServer;
let stored: ProviderCredentialsResult = { credentials: [] };

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}
const open = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

function sealed(
  providerId: string,
  version: number,
  secret: string,
): ProviderCredentialsResult['credentials'][number] {
  const s = seal(KEY, secret, providerId);
  return {
    providerId,
    version,
    ciphertext: s.ciphertext.toString('base64'),
    iv: s.iv.toString('base64'),
    authTag: s.authTag.toString('base64'),
  };
}

beforeAll(async () => {
  const bin = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((p) =>
    existsSync(p),
  );
  if (!bin) throw new Error('nats-server is not installed');
  const port = await freePort();
  dir = mkdtempSync(path.join(tmpdir(), 'gw-exec-creds-'));
  proc = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: 'ignore' });
  while (!(await open(port))) await new Promise((r) => setTimeout(r, 50));
  url = `nats://127.0.0.1:${port}`;
  nc = await connectNats(url, 'ingress-double');
  server = new HotServer(nc);
  server.serveRpc(contracts.identityProviderCredentials, async () => stored);
  await nc.flush();
});
afterAll(async () => {
  await server.close();
  await nc.drain();
  proc.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

describe('CredentialsSync', () => {
  it('uses the stored credential over the config key, and switches on the broadcast', async () => {
    const directory = new ProviderDirectory(
      GatewayConfig.parse({
        providers: [{ id: 'openai', type: 'openai', apiKey: 'sk-from-config', timeoutMs: 1000 }],
        models: [],
        moderation: { cardNumbers: 'off' },
        cache: { enabled: false, ttlSeconds: 1 },
      }),
    );
    const target = {
      providerId: 'openai',
      providerType: 'openai' as const,
      model: 'gpt-4o-mini',
      baseUrl: 'http://127.0.0.1:1/v1',
      timeoutMs: 1000,
      price: null,
    };
    expect(directory.resolve(target).provider.apiKey).toBe('sk-from-config');

    const execNc = await connectNats(url, 'executor');
    const hot = new HotClient(execNc);
    const sync = new CredentialsSync(
      hot,
      directory,
      loadEnv({ GATEWAY_ENCRYPTION_KEY: KEY.toString('hex') }),
    );
    stored = { credentials: [sealed('openai', 1, 'sk-stored-v1'), sealed('other', 3, 'sk-other')] };
    expect(await sync.refresh()).toBe(true);
    expect(directory.resolve(target).provider.apiKey).toBe('sk-stored-v1');

    // rotation: the ingress stores v2 and broadcasts; the executor's handler fetches again
    stored = { credentials: [sealed('openai', 2, 'sk-stored-v2')] };
    const execServer = new HotServer(execNc);
    execServer.serveEvent(contracts.executorCredentialsChanged, (e) => sync.changed(e));
    await execNc.flush();
    new HotClient(nc).emit(contracts.executorCredentialsChanged, { providerId: 'openai' });
    const until = Date.now() + 3_000;
    while (directory.resolve(target).provider.apiKey !== 'sk-stored-v2' && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    expect(directory.resolve(target).provider.apiKey).toBe('sk-stored-v2');

    // a credential sealed with another key is ignored, not fatal
    stored = { credentials: [{ ...sealed('openai', 3, 'x'), authTag: randomBytes(16).toString('base64') }] };
    expect(await sync.refresh()).toBe(true);
    expect(directory.resolve(target).provider.apiKey).toBe('sk-from-config');
    sync.onApplicationShutdown();
    await execServer.close();
    await execNc.drain();
  });
});
