import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from './load.js';

const problemsOf = (yaml: string): string[] => {
  try {
    parseConfigText(yaml, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('config validation lists every problem', () => {
  it('schema problems and unknown references together', () => {
    const p = problemsOf(`
providers: [{ id: a, type: openai }]
models:
  - name: m
    targets: [{ provider: nope, model: x }]
routing:
  retry: { maxRetries: -1 }
  policies: [{ name: p, when: {}, allow: { providers: [ghost] } }]
`);
    expect(p).toEqual([
      expect.stringMatching(/^routing\.retry\.maxRetries: /),
      'models[0].targets[0].provider: unknown provider nope',
      'routing.policies[0].allow.providers: unknown provider ghost',
    ]);
  });

  it("routing sections: unknown prompt classes, targets that are not the model's, hedge bounds", () => {
    const p = problemsOf(`
providers: [{ id: a, type: openai }]
models:
  - name: m
    targets: [{ provider: a, model: x }]
    routing:
      hedge: { minDelayMs: 500, maxDelayMs: 100 }
      classes: [{ class: code, targets: [a/y] }]
routing:
  classes: [{ name: legal, keywords: [contract] }]
`);
    expect(p).toEqual([
      'models[0].routing.classes[0].class: unknown prompt class code (define it in routing.classes)',
      'models[0].routing.classes[0].targets: a/y is not a target of m',
      'models[0].routing.hedge: minDelayMs is above maxDelayMs',
    ]);
  });

  it('a valid routing config passes, with the defaults filled', () => {
    const c = parseConfigText(
      'providers: [{ id: a, type: openai }]\nmodels: [{ name: m, targets: [{ provider: a, model: x }] }]\n',
      {},
    );
    expect(c.routing.retry).toEqual({
      maxRetries: 1,
      baseDelayMs: 100,
      maxDelayMs: 2_000,
      retryAfterCapMs: 2_000,
    });
    expect(c.routing.breaker.consecutiveFailures).toBe(5);
  });
});
