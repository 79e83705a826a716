import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RESTART_POLICY,
  PROVIDER_KEY_VARS,
  afterCrash,
  describeExit,
  lineSplitter,
  newMasterKey,
  prefixLine,
  serviceEnv,
  simulatorDecision,
  summarizeVitest,
} from './launcher.mjs';

describe('serviceEnv', () => {
  it('fills in every default the services read and always sets the master key', () => {
    const env = serviceEnv({ PATH: '/bin' }, { masterKey: 'sk-gw-master-x' });
    expect(env).toMatchObject({
      PATH: '/bin',
      NATS_URL: 'nats://127.0.0.1:4222',
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/gateway',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: 'gw',
      PORT: '8080',
      HOST: '0.0.0.0',
      BILLING_PORT: '8090',
      SIMULATOR_URL: 'http://127.0.0.1:8099/v1',
      LOG_LEVEL: 'log',
      NODE_OPTIONS: '--max-semi-space-size=32',
      GATEWAY_MASTER_KEY: 'sk-gw-master-x',
    });
    expect(env).not.toHaveProperty('GATEWAY_CONFIG');
  });

  it('keeps what the caller set and drops an empty GATEWAY_CONFIG', () => {
    const env = serviceEnv(
      { PORT: '9000', REDIS_PREFIX: 'p1', GATEWAY_CONFIG: '', NATS_URL: 'nats://n:4222', X: undefined },
      { masterKey: 'k' },
    );
    expect(env['PORT']).toBe('9000');
    expect(env['REDIS_PREFIX']).toBe('p1');
    expect(env['NATS_URL']).toBe('nats://n:4222');
    expect(serviceEnv({ NODE_OPTIONS: '--max-old-space-size=512' }, { masterKey: 'k' })['NODE_OPTIONS']).toBe('--max-old-space-size=512');
    expect(env).not.toHaveProperty('GATEWAY_CONFIG');
    expect(env).not.toHaveProperty('X');
  });
});

describe('newMasterKey', () => {
  it('makes a different, long key each time', () => {
    const a = newMasterKey();
    expect(a).toMatch(/^sk-gw-master-[0-9a-f]{48}$/);
    expect(newMasterKey()).not.toBe(a);
  });
});

describe('simulatorDecision', () => {
  it('starts the simulator with no config and no provider key', () => {
    expect(simulatorDecision({}, undefined).start).toBe(true);
  });
  it.each(PROVIDER_KEY_VARS.map((k) => [k]))('does not start it when %s is set', (k) => {
    const d = simulatorDecision({ [k]: 'sk-real' }, undefined);
    expect(d.start).toBe(false);
    expect(d.reason).toContain(k);
  });
  it('does not start it when SIMULATOR_URL already points somewhere', () => {
    expect(simulatorDecision({ SIMULATOR_URL: 'http://10.0.0.1:1/v1' }, undefined).start).toBe(false);
  });
  it('with GATEWAY_CONFIG, starts it only when the file uses ${SIMULATOR_URL}', () => {
    expect(simulatorDecision({ GATEWAY_CONFIG: '/c.yaml' }, 'baseUrl: ${SIMULATOR_URL}').start).toBe(true);
    expect(simulatorDecision({ GATEWAY_CONFIG: '/c.yaml' }, 'baseUrl: https://api.openai.com/v1').start).toBe(
      false,
    );
  });
  it('GW_SIMULATOR forces it either way', () => {
    expect(simulatorDecision({ GW_SIMULATOR: '1', OPENAI_API_KEY: 'k' }, undefined).start).toBe(true);
    expect(simulatorDecision({ GW_SIMULATOR: '0' }, undefined).start).toBe(false);
  });
});

describe('lineSplitter', () => {
  it('joins lines split across chunks, strips CR, and flushes a last partial line', () => {
    const lines: string[] = [];
    const s = lineSplitter((l) => lines.push(l));
    s.push('one\ntw');
    s.push(Buffer.from('o\r\nthree'));
    expect(lines).toEqual(['one', 'two']);
    s.flush();
    expect(lines).toEqual(['one', 'two', 'three']);
    s.flush();
    expect(lines).toHaveLength(3);
  });
});

describe('prefixLine / describeExit', () => {
  it('pads the name', () => {
    expect(prefixLine('cache', 10, 'hello')).toBe('[cache     ] hello');
  });
  it('says how a process ended', () => {
    expect(describeExit(1, null)).toBe('exit code 1');
    expect(describeExit(null, 'SIGKILL')).toBe('killed by SIGKILL');
  });
});

describe('afterCrash', () => {
  const policy = {
    ...DEFAULT_RESTART_POLICY,
    baseMs: 100,
    maxMs: 1_000,
    stableMs: 10_000,
    bootMs: 1_000,
    maxBootFailures: 3,
  };

  it('backs off exponentially up to the cap', () => {
    let state = { crashes: 0, bootFailures: 0 };
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = afterCrash(state, 5_000, policy);
      if (r.action !== 'restart') throw new Error('expected a restart');
      delays.push(r.delayMs);
      state = r.state;
    }
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('gives up after maxBootFailures crashes in a row during boot', () => {
    let state = { crashes: 0, bootFailures: 0 };
    const actions: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = afterCrash(state, 200, policy);
      actions.push(r.action);
      state = r.state;
    }
    expect(actions).toEqual(['restart', 'restart', 'give-up']);
  });

  it('a crash after boot resets the boot-failure count; a long run resets the backoff', () => {
    const r1 = afterCrash({ crashes: 2, bootFailures: 2 }, 5_000, policy);
    expect(r1).toMatchObject({
      action: 'restart',
      duringBoot: false,
      state: { crashes: 3, bootFailures: 0 },
    });
    const r2 = afterCrash({ crashes: 7, bootFailures: 0 }, 60_000, policy);
    expect(r2).toMatchObject({ action: 'restart', delayMs: 100, state: { crashes: 1, bootFailures: 0 } });
  });
});

describe('summarizeVitest', () => {
  it('counts passed and failed tests, and a file that failed to load as a failure', () => {
    const s = summarizeVitest({
      numPassedTests: 5,
      numFailedTests: 1,
      numPendingTests: 2,
      numTodoTests: 0,
      testResults: [
        { name: '/a.spec.ts', status: 'passed', assertionResults: [{ status: 'passed', fullName: 'a ok' }] },
        {
          name: '/b.spec.ts',
          status: 'failed',
          assertionResults: [{ status: 'failed', fullName: 'b breaks' }],
        },
        {
          name: '/c.spec.ts',
          status: 'failed',
          message: 'Cannot find module x\n  at ...',
          assertionResults: [],
        },
      ],
    });
    expect(s).toEqual({
      passed: 5,
      failed: 2,
      skipped: 2,
      failedTests: ['b breaks'],
      brokenFiles: ['/c.spec.ts: Cannot find module x'],
    });
  });
  it('treats a missing or odd report as nothing run', () => {
    expect(summarizeVitest(null)).toMatchObject({ passed: 0, failed: 0 });
  });
});
