import { describe, expect, it } from 'vitest';
import { GatewayError } from '@gw/contracts';
import { KeyCreate, parseBody, TeamCreate, TeamPatch } from './admin.schemas.js';

function fail(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('did not fail');
}

describe('admin schemas', () => {
  it('accepts a full team', () => {
    expect(parseBody(TeamCreate, { name: 'a', budgetUsd: 12.5, budgetPeriod: 'monthly', rpm: 10, tpm: 1000 })).toMatchObject({ name: 'a', budgetUsd: 12.5 });
  });
  it('names an unknown field', () => {
    const e = fail(() => parseBody(TeamCreate, { name: 'a', colour: 'red' }));
    expect(e.status).toBe(400);
    expect(e.message).toContain('colour');
    expect(e.param).toBe('colour');
  });
  it('rejects a negative budget, a bad period, a missing name', () => {
    expect(fail(() => parseBody(TeamCreate, { name: 'a', budgetUsd: -1 })).param).toBe('budgetUsd');
    expect(fail(() => parseBody(TeamCreate, { name: 'a', budgetPeriod: 'weekly' })).param).toBe('budgetPeriod');
    expect(fail(() => parseBody(TeamCreate, {})).param).toBe('name');
    expect(fail(() => parseBody(TeamCreate, [])).status).toBe(400);
  });
  it('lets a patch clear a setting with null', () => {
    expect(parseBody(TeamPatch, { budgetUsd: null, rpm: null })).toEqual({ budgetUsd: null, rpm: null });
  });
  it('validates keys', () => {
    expect(parseBody(KeyCreate, { teamId: 't', name: 'k', models: ['a'], role: 'admin', expiresAt: '2030-01-01T00:00:00Z' })).toMatchObject({ role: 'admin' });
    expect(fail(() => parseBody(KeyCreate, { teamId: 't', name: 'k', role: 'root' })).param).toBe('role');
    expect(fail(() => parseBody(KeyCreate, { teamId: 't', name: 'k', expiresAt: 'tomorrow' })).param).toBe('expiresAt');
    expect(fail(() => parseBody(KeyCreate, { name: 'k' })).param).toBe('teamId');
  });
});
