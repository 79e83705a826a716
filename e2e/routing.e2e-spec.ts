import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '@gw/testing';
import { until } from './helpers.js';

/**
 * Issue 4 through the whole stack, with two router and two executor replicas: a dead primary never fails a client
 * request and stops getting traffic within 1 s on both replicas (shared circuit breaker); the routing story in
 * x-gateway-route; the strategy override header; context-window 400s before any upstream call; a config pushed
 * through the admin API (validated, every problem listed) that pins a team to EU-only targets.
 */
const config = (extra = '') => `
providers:
  - id: sim
    type: openai-compatible
    baseUrl: \${SIMULATOR_URL}
    timeoutMs: 3000
  - id: sim-dead
    type: openai-compatible
    baseUrl: \${SIMULATOR_URL}
    timeoutMs: 3000
  - id: sim-eu
    type: openai-compatible
    baseUrl: \${SIMULATOR_URL}
models:
  - name: dual
    targets:
      - { provider: sim-dead, model: dead-primary, price: { inputPerMTok: 1, outputPerMTok: 2 } }
      - { provider: sim, model: healthy-secondary, price: { inputPerMTok: 1, outputPerMTok: 2 } }
  - name: pinned
    targets:
      - { provider: sim, model: us-model, region: us }
      - { provider: sim-eu, model: eu-model, region: eu }
  - name: small-window
    targets:
      - { provider: sim, model: tiny-window, contextWindow: 200 }
routing:
  breaker: { consecutiveFailures: 3, openMs: 60000 }
${extra}`;

describe('routing and resilience, two router and two executor replicas', () => {
  let stack: Stack;
  let client: OpenAI;
  let teamId: string;
  let key: string;

  beforeAll(async () => {
    stack = await startStack({ configYaml: config(), replicas: { router: 2, executor: 2 } });
    ({ key, teamId } = await stack.createKey());
    client = new OpenAI({ apiKey: key, baseURL: `${stack.ingressUrl}/v1`, maxRetries: 0, timeout: 30_000 });
    // the second replicas are up when both answer: wait for a few plain requests through each
    await until(
      'the stack to answer',
      () =>
        ask('pinned').then(
          () => true,
          () => false,
        ),
      30_000,
    );
  }, 120_000);
  afterAll(async () => stack?.close());

  let n = 0;
  const prompt = () => `route me ${(n++).toString(36)} ${Math.random().toString(36).slice(2)}`;
  const ask = (model: string, headers: Record<string, string> = {}) =>
    client.chat.completions
      .create({ model, messages: [{ role: 'user', content: prompt() }] }, { headers })
      .withResponse();
  const deadCalls = () => stack.simulator.stats().requestsByModel['dead-primary'] ?? 0;

  it('a dead primary: no client request fails, and it gets no traffic 1 s after its first failure, on every replica', async () => {
    stack.simulator.setFaults([{ match: { model: 'dead-primary' }, fault: { kind: 'status', status: 500 } }]);
    const t0 = Date.now();
    const routes: string[] = [];
    let failures = 0;
    let snapshot: number | null = null;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() - t0 < 2_500) {
          if (snapshot === null && Date.now() - t0 >= 1_000) snapshot = deadCalls();
          try {
            const { data, response } = await ask('dual');
            expect(data.choices[0]?.message.content).toBeTruthy();
            routes.push(response.headers.get('x-gateway-route') ?? '');
          } catch {
            failures++;
          }
        }
      }),
    );
    expect(failures).toBe(0);
    expect(routes.length).toBeGreaterThan(20);
    expect(snapshot).not.toBeNull();
    // after the first second nothing more reached the dead target, whichever router planned
    expect(deadCalls()).toBe(snapshot);
    expect(routes[0]).toBe('sim-dead/dead-primary:5xx,sim/healthy-secondary:ok');
    expect(routes.at(-1)).toBe('sim/healthy-secondary:ok,sim-dead/dead-primary:skipped');
    // both router replicas opened the circuit (each folds the executors' broadcast outcomes)
    for (const r of ['router', 'router-2'])
      expect(stack.processes.logsOf(r)).toContain('circuit sim-dead/dead-primary: closed → open');
    stack.simulator.clearFaults();
  }, 30_000);

  it('when every target fails, the error (OpenAI format) still tells the story in x-gateway-route', async () => {
    stack.simulator.setFaults([
      { match: { model: 'us-model' }, fault: { kind: 'status', status: 503 } },
      { match: { model: 'eu-model' }, fault: { kind: 'status', status: 503 } },
    ]);
    const err = await ask('pinned').then(
      () => null,
      (e: unknown) => e,
    );
    stack.simulator.clearFaults();
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const apiErr = err as InstanceType<typeof OpenAI.APIError>;
    expect(apiErr.status).toBe(503);
    // one walk, then one retry round over both (default maxRetries 1)
    expect(apiErr.headers?.get('x-gateway-route')).toBe(
      'sim/us-model:503,sim-eu/eu-model:503,sim/us-model:503,sim-eu/eu-model:503',
    );
  });

  it('x-gateway-route-strategy: an unknown one is a 400 in the OpenAI format; a known one is used', async () => {
    const err = await ask('pinned', { 'x-gateway-route-strategy': 'fastest' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({
      message: expect.stringContaining('unknown strategy fastest'),
    });
    const { response } = await ask('pinned', { 'x-gateway-route-strategy': 'cost' });
    expect(response.headers.get('x-gateway-route')).toMatch(/:ok$/);
  });

  it('a prompt that fits no context window: 400 context_length_exceeded, and no upstream call', async () => {
    const before = stack.simulator.stats().requestsByModel['tiny-window'] ?? 0;
    const err = await client.chat.completions
      .create({ model: 'small-window', messages: [{ role: 'user', content: 'many words '.repeat(500) }] })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('context_length_exceeded');
    expect(stack.simulator.stats().requestsByModel['tiny-window'] ?? 0).toBe(before);
  });

  it('admin config push: a bad config is refused with every problem; a good one pins the team to EU on every replica', async () => {
    const admin = { authorization: `Bearer ${stack.masterKey}`, 'content-type': 'application/json' };
    const bad = await fetch(`${stack.ingressUrl}/admin/v1/config`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({
        yaml: config(
          '  timeouts: { ttftMs: 0 }\n  retry: { maxRetries: -1 }\n  policies: [{ name: p, when: {}, allow: { providers: [nope] } }]\n',
        ),
      }),
    });
    expect(bad.status).toBe(400);
    const badBody = (await bad.json()) as { error: { message: string } };
    expect(badBody.error.message).toContain('3 problems');
    expect(badBody.error.message).toContain('unknown provider nope');
    expect(badBody.error.message).toContain('routing.retry.maxRetries');
    expect(badBody.error.message).toContain('routing.timeouts.ttftMs');
    // the old config stays: the team still reaches the US target
    const usBefore = stack.simulator.stats().requestsByModel['us-model'] ?? 0;
    await ask('pinned');
    expect(stack.simulator.stats().requestsByModel['us-model'] ?? 0).toBe(usBefore + 1);

    const good = await fetch(`${stack.ingressUrl}/admin/v1/config`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({
        yaml: config(
          `  policies:\n    - { name: eu-only, when: { team: "${teamId}" }, allow: { regions: [eu] } }\n`,
        ),
      }),
    });
    expect(good.status).toBe(202);
    // every replica applies the broadcast: from now on, 20 requests in a row all go to the EU target
    await until(
      'the EU pin on every replica',
      async () => (await ask('pinned')).response.headers.get('x-gateway-provider') === 'sim-eu',
      5_000,
      50,
    );
    const us = stack.simulator.stats().requestsByModel['us-model'] ?? 0;
    for (let i = 0; i < 20; i++) {
      const { response } = await ask('pinned');
      expect(response.headers.get('x-gateway-provider')).toBe('sim-eu');
      expect(response.headers.get('x-gateway-route')).toBe('sim-eu/eu-model:ok,sim/us-model:skipped');
    }
    expect(stack.simulator.stats().requestsByModel['us-model'] ?? 0).toBe(us);
  });
});
