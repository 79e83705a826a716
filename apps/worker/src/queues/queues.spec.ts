import { describe, expect, it } from 'vitest';
import { hoursToRollUp, RollupJobData } from './queues.js';

describe('rollup jobs', () => {
  it('a fire at 08:05 rolls up 07:00 and 08:00', () => {
    expect(hoursToRollUp(new Date('2026-11-23T08:05:00.000Z'))).toEqual(['2026-11-23T07:00:00.000Z', '2026-11-23T08:00:00.000Z']);
  });

  it('crosses midnight and an exact hour boundary', () => {
    expect(hoursToRollUp(new Date('2026-01-01T00:00:00.000Z'))).toEqual(['2025-12-31T23:00:00.000Z', '2026-01-01T00:00:00.000Z']);
  });

  it('job data: hours must be ISO date-times', () => {
    expect(RollupJobData.parse({})).toEqual({});
    expect(RollupJobData.safeParse({ hourStarts: ['yesterday'] }).success).toBe(false);
    expect(RollupJobData.safeParse({ hourStarts: [] }).success).toBe(false);
  });
});
