import { describe, expect, it } from 'vitest';
import { throttledWarn } from './throttled-warn.js';

describe('throttledWarn', () => {
  it('logs the first warning, drops the ones within the interval, logs again after it', () => {
    const logged: string[] = [];
    let t = 1_000;
    const warn = throttledWarn({ warn: (m: string) => void logged.push(m) }, 5_000, () => t);
    warn('a');
    t += 4_999;
    warn('b');
    t += 1;
    warn('c');
    expect(logged).toEqual(['a', 'c']);
  });
});
