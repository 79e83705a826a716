import { describe, expect, it } from 'vitest';
import { BurstLog } from './burst-log.js';

function setup(repeatMs = 60_000) {
  const lines: string[] = [];
  let t = 1_000;
  const log = new BurstLog('redis', { warn: (m) => lines.push(`warn ${m}`), log: (m) => lines.push(`log ${m}`) }, repeatMs, () => t);
  return { log, lines, advance: (ms: number) => (t += ms) };
}

describe('BurstLog', () => {
  it('logs the first failure of a burst and nothing for the next ones', () => {
    const { log, lines } = setup();
    for (let i = 0; i < 100; i++) log.failure(new Error('connection refused'));
    expect(lines).toEqual(['warn redis failing: connection refused']);
    expect(log.isFailing).toBe(true);
  });

  it('logs the recovery with the number of failures, then a new burst again', () => {
    const { log, lines } = setup();
    log.failure(new Error('a'));
    log.failure(new Error('b'));
    log.failure(new Error('c'));
    log.success();
    log.success();
    log.failure('d');
    expect(lines).toEqual(['warn redis failing: a', 'log redis recovered after 3 failures', 'warn redis failing: d']);
  });

  it('reminds while a long outage lasts', () => {
    const { log, lines, advance } = setup(10_000);
    log.failure(new Error('down'));
    for (let i = 0; i < 5; i++) {
      advance(1_000);
      log.failure(new Error('down'));
    }
    expect(lines).toHaveLength(1);
    advance(5_000);
    log.failure(new Error('still down'));
    expect(lines[1]).toBe('warn redis still failing: 6 more failures in 10 s (last: still down)');
  });

  it('says nothing while things work', () => {
    const { log, lines } = setup();
    log.success();
    expect(lines).toEqual([]);
  });
});
