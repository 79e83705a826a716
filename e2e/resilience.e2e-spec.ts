import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '@gw/testing';
import { SIM_CONFIG, until } from './helpers.js';

/** Issue 2, done-when 3: a stopped router or executor gives a fast 503 in the OpenAI format, and recovery needs no restarts. */
describe('a service goes away and comes back', () => {
  let stack: Stack;
  let client: OpenAI;
  const REQUEST_TIMEOUT_MS = 3_000;

  beforeAll(async () => {
    stack = await startStack({ configYaml: SIM_CONFIG, env: { REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) } });
    const { key } = await stack.createKey();
    client = new OpenAI({ apiKey: key, baseURL: `${stack.ingressUrl}/v1`, maxRetries: 0, timeout: 30_000 });
  });
  afterAll(async () => stack?.close());

  // a different prompt each time: an answer from the cache would hide the outage
  let n = 0;
  const ask = () => client.chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: `ping ${n++}` }] });

  for (const service of ['router', 'executor'] as const) {
    it(`${service} stopped → 503 within the timeout; back → requests succeed`, async () => {
      expect((await ask()).choices[0]?.message.content).toBeTruthy();
      await stack.stop(service, 'SIGKILL');

      const started = Date.now();
      const err = await ask().then(
        () => null,
        (e: unknown) => e,
      );
      const tookMs = Date.now() - started;
      expect(err).toBeInstanceOf(OpenAI.APIError);
      const apiErr = err as InstanceType<typeof OpenAI.APIError>;
      expect(apiErr.status).toBe(503);
      expect(apiErr.error).toMatchObject({ message: expect.any(String), type: expect.any(String) });
      expect(tookMs).toBeLessThan(REQUEST_TIMEOUT_MS + 1_000);

      await stack.start(service);
      await until(
        `${service} to serve again`,
        async () =>
          ask().then(
            (r) => Boolean(r.choices[0]?.message.content),
            () => false,
          ),
        30_000,
        250,
      );
    });
  }
});
