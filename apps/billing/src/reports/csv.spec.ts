import { describe, expect, it } from 'vitest';
import { csvField, csvLine, EXPORT_COLUMNS, exportHeader, exportLine } from './csv.js';
import type { UsageRecordRow } from './reports.repository.js';

describe('csv', () => {
  it('quotes fields with commas, quotes and line breaks only', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rlf')).toBe('"cr\rlf"');
    expect(csvField(null)).toBe('');
    expect(csvField(42)).toBe('42');
    expect(csvField(false)).toBe('false');
  });

  it('defuses spreadsheet formulas in text cells, not in numbers', () => {
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('-1+2')).toBe("'-1+2");
    expect(csvField(-1)).toBe('-1');
  });

  it('lines end in CRLF', () => {
    expect(csvLine(['a', 1, null])).toBe('a,1,\r\n');
  });

  it('a record becomes one line with exact USD and every column', () => {
    const row: UsageRecordRow = {
      id: '1',
      request_id: 'req,1',
      occurred_at: new Date('2026-11-23T07:00:00.123Z'),
      org_id: null,
      team_id: 'team-a',
      key_id: 'key-a',
      end_user: 'user "x"',
      requested_model: 'gpt-4o-mini',
      provider_id: 'openai',
      model: 'gpt-4o-mini-2024',
      input_tokens: 10,
      output_tokens: 20,
      cached_input_tokens: 0,
      input_images: 2,
      cost_nano_usd: '1234567891',
      latency_ms: 250,
      cache_status: 'miss',
      status: 'ok',
      error_code: null,
      usage_estimated: false,
      stream: true,
      tags: { project: 'a,b' },
      attempts: 1,
      mode: 'batch',
      routing: null,
      saving_nano_usd: '5',
      price_id: null,
    };
    expect(exportHeader().split(',')).toHaveLength(EXPORT_COLUMNS.length);
    expect(exportLine(row)).toBe(
      '"req,1",2026-11-23T07:00:00.123Z,,team-a,key-a,"user ""x""",gpt-4o-mini,openai,gpt-4o-mini-2024,10,20,0,1.234567891,1234567891,250,miss,ok,,false,true,1,"{""project"":""a,b""}",batch,0.000000005,2\r\n',
    );
  });
});
