import type { Logger } from '@nestjs/common';

/** How often an outage may write its warning: once per this, however many requests it fails. */
export const WARN_EVERY_MS = 5_000;

/**
 * A warning for a condition that can repeat at the request rate (a dependency away): the first call logs, later
 * calls within `everyMs` are dropped. One instance per condition.
 */
export function throttledWarn(logger: Pick<Logger, 'warn'>, everyMs = WARN_EVERY_MS, now: () => number = Date.now): (message: string) => void {
  let lastAt = -Infinity;
  return (message) => {
    const t = now();
    if (t - lastAt < everyMs) return;
    lastAt = t;
    logger.warn(message);
  };
}
