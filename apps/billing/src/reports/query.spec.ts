import { GatewayError } from '@gw/contracts';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, parseChargebackQuery, parseExportQuery, parseSpendQuery, parseUsageQuery, uncovered, wholeDays } from './query.js';

const now = new Date('2026-11-23T08:00:00.000Z');

function badRequest(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(400);
    return err as GatewayError;
  }
  throw new Error('expected a 400');
}

describe('spend query', () => {
  it('defaults: groupBy team, the last 30 days up to now', () => {
    expect(parseSpendQuery({}, now)).toEqual({ groupBy: 'team', teamId: null, keyId: null, model: null, provider: null, tag: null, from: new Date('2026-10-24T08:00:00.000Z'), to: now });
  });

  it('accepts dates and date-times with a zone', () => {
    const q = parseSpendQuery({ groupBy: 'day', from: '2026-11-01', to: '2026-11-02T12:00:00+02:00', teamId: 't1' }, now);
    expect(q).toMatchObject({ groupBy: 'day', teamId: 't1', from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-02T10:00:00Z') });
  });

  it('rejects an unknown groupBy, naming the parameter and the choices', () => {
    const e = badRequest(() => parseSpendQuery({ groupBy: 'colour' }, now));
    expect(e.param).toBe('groupBy');
    expect(e.message).toContain('team, key, model, provider, day');
  });

  it('rejects a time without a zone, an impossible date, and from >= to', () => {
    expect(badRequest(() => parseSpendQuery({ from: '2026-11-01T00:00:00' }, now)).param).toBe('from');
    badRequest(() => parseSpendQuery({ to: 'yesterday' }, now));
    badRequest(() => parseSpendQuery({ from: '2026-13-45' }, now));
    expect(badRequest(() => parseSpendQuery({ from: '2026-11-02', to: '2026-11-01' }, now)).message).toContain('from must be before to');
  });

  it('rejects unknown and repeated parameters', () => {
    expect(badRequest(() => parseSpendQuery({ grupBy: 'team' }, now)).message).toContain('unknown query parameter(s): grupBy');
    badRequest(() => parseSpendQuery({ teamId: ['a', 'b'] }, now));
  });
});

describe('usage query', () => {
  it('limit defaults to 100, at most 1000, an integer', () => {
    expect(parseUsageQuery({}, now).limit).toBe(100);
    expect(parseUsageQuery({ limit: '1000' }, now).limit).toBe(1000);
    badRequest(() => parseUsageQuery({ limit: '1001' }, now));
    badRequest(() => parseUsageQuery({ limit: '0' }, now));
    badRequest(() => parseUsageQuery({ limit: '2.5' }, now));
    badRequest(() => parseUsageQuery({ limit: 'ten' }, now));
  });

  it('a cursor round-trips; a forged one is a 400', () => {
    const c = { occurredAt: new Date('2026-11-20T10:11:12.345Z'), id: '98765' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(parseUsageQuery({ cursor: encodeCursor(c) }, now).cursor).toEqual(c);
    expect(badRequest(() => parseUsageQuery({ cursor: 'not-a-cursor' }, now)).param).toBe('cursor');
  });
});

describe('export query', () => {
  it('format is csv (default); anything else is a 400', () => {
    expect(parseExportQuery({}, now).format).toBe('csv');
    expect(parseExportQuery({ format: 'csv', keyId: 'k' }, now).keyId).toBe('k');
    expect(badRequest(() => parseExportQuery({ format: 'xlsx' }, now)).message).toContain('format: must be csv');
  });
});

describe('spend filters', () => {
  it('key, model, provider and tag (key=value or key alone); groupBy tag', () => {
    const q = parseSpendQuery({ groupBy: 'tag', keyId: 'k', model: 'm', provider: 'p', tag: 'project=a=b' }, now);
    expect(q).toMatchObject({ groupBy: 'tag', keyId: 'k', model: 'm', provider: 'p', tag: { key: 'project', value: 'a=b' } });
    expect(parseSpendQuery({ tag: 'project' }, now).tag).toEqual({ key: 'project', value: null });
    expect(badRequest(() => parseSpendQuery({ tag: '=x' }, now)).param).toBe('tag');
  });
});

describe('chargeback query', () => {
  it('a UTC calendar month', () => {
    expect(parseChargebackQuery({ month: '2026-02' })).toEqual({ month: '2026-02', from: new Date('2026-02-01T00:00:00Z'), to: new Date('2026-03-01T00:00:00Z') });
    expect(parseChargebackQuery({ month: '2026-12' }).to).toEqual(new Date('2027-01-01T00:00:00Z'));
    for (const month of [undefined, '2026-13', '2026-1', 'feb']) expect(badRequest(() => parseChargebackQuery(month === undefined ? {} : { month })).param).toBe('month');
  });
});

describe('whole days and the raw edges', () => {
  const w = { from: new Date('2026-11-01T10:00:00Z'), to: new Date('2026-11-04T06:00:00Z') };
  it('the whole UTC days inside a window', () => {
    expect(wholeDays(w).days).toEqual(['2026-11-02', '2026-11-03']);
    expect(wholeDays({ from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-02T00:00:00Z') }).days).toEqual(['2026-11-01']);
    expect(wholeDays({ from: new Date('2026-11-01T01:00:00Z'), to: new Date('2026-11-01T23:00:00Z') }).days).toEqual([]);
  });
  it('what the covered days leave to the raw records', () => {
    expect(uncovered(w, ['2026-11-02', '2026-11-03'])).toEqual([
      { from: w.from, to: new Date('2026-11-02T00:00:00Z') },
      { from: new Date('2026-11-04T00:00:00Z'), to: w.to },
    ]);
    expect(uncovered(w, ['2026-11-03'])).toEqual([
      { from: w.from, to: new Date('2026-11-03T00:00:00Z') },
      { from: new Date('2026-11-04T00:00:00Z'), to: w.to },
    ]);
    expect(uncovered(w, [])).toEqual([w]);
    expect(uncovered({ from: new Date('2026-11-02T00:00:00Z'), to: new Date('2026-11-03T00:00:00Z') }, ['2026-11-02'])).toEqual([]);
  });
});
