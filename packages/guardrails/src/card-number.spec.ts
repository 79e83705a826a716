import { describe, expect, it } from 'vitest';
import { CARD_REDACTION, findCardNumbers, luhnValid, mayContainCardNumber, redactCardNumbers } from './card-number.js';

describe('luhnValid', () => {
  it('accepts real test card numbers', () => {
    for (const n of ['4111111111111111', '5500000000000004', '378282246310005', '6011111111111117', '4012888888881881', '79927398713']) {
      expect(luhnValid(n), n).toBe(true);
    }
  });

  it('rejects numbers whose check digit is wrong, and non-digits', () => {
    for (const n of ['4111111111111112', '5500000000000005', '378282246310006', '79927398710', '', '4111-1111']) {
      expect(luhnValid(n), n).toBe(false);
    }
  });
});

describe('findCardNumbers / redactCardNumbers', () => {
  const redact = (t: string) => redactCardNumbers(t);

  it('finds cards written together, with spaces, and with dashes', () => {
    expect(redact('pay with 4111 1111 1111 1111 please')).toEqual({ text: `pay with ${CARD_REDACTION} please`, count: 1 });
    expect(redact('card: 5500-0000-0000-0004.')).toEqual({ text: `card: ${CARD_REDACTION}.`, count: 1 });
    expect(redact('amex 378282246310005')).toEqual({ text: `amex ${CARD_REDACTION}`, count: 1 });
    expect(redact('amex 3782 822463 10005')).toEqual({ text: `amex ${CARD_REDACTION}`, count: 1 });
  });

  it('leaves a 16-digit number that fails Luhn alone', () => {
    expect(redact('order 4111 1111 1111 1112 shipped')).toEqual({ text: 'order 4111 1111 1111 1112 shipped', count: 0 });
    expect(redact('1234567812345678')).toEqual({ text: '1234567812345678', count: 0 });
  });

  it('finds several cards, including two separated by a single space', () => {
    const r = redact('first 4111111111111111, second 5500-0000-0000-0004 and 378282246310005');
    expect(r).toEqual({ text: `first ${CARD_REDACTION}, second ${CARD_REDACTION} and ${CARD_REDACTION}`, count: 3 });
    expect(redact('4111111111111111 5500000000000004')).toEqual({ text: `${CARD_REDACTION} ${CARD_REDACTION}`, count: 2 });
  });

  it('does not split a group: a longer number holds no card', () => {
    expect(findCardNumbers('41111111111111110000')).toEqual([]); // 20 digits
    expect(findCardNumbers('x 14111111111111111 y')).toEqual([]); // 17 digits, fails Luhn as a whole
  });

  it('needs 13 to 19 digits and single separators only', () => {
    expect(findCardNumbers('4111111111119')).toHaveLength(1); // 13 digits, Luhn-valid
    expect(findCardNumbers('411111111111')).toEqual([]); // 12 digits
    expect(findCardNumbers('4111  1111  1111  1111')).toEqual([]); // double spaces: four short numbers
    expect(findCardNumbers('4111--1111--1111--1111')).toEqual([]);
  });

  it('only takes numbers standing as words', () => {
    expect(findCardNumbers('id_4111111111111111')).toEqual([]);
    expect(findCardNumbers('abc4111111111111111')).toEqual([]);
    expect(findCardNumbers('(4111111111111111)')).toEqual([{ start: 1, end: 17 }]);
    expect(findCardNumbers('"4111111111111111"')).toEqual([{ start: 1, end: 17 }]);
  });

  it('keeps the text around each card exactly', () => {
    const text = 'a 4111-1111-1111-1111 b\n5500 0000 0000 0004\tc';
    expect(redact(text).text).toBe(`a ${CARD_REDACTION} b\n${CARD_REDACTION}\tc`);
  });
});

describe('findCardNumbers against a plain reference', () => {
  /** The rule written the slow way: from each group, the longest run of whole groups with 13-19 digits passing luhnValid. */
  function reference(run: string): string[] {
    const groups = run.split(/[ -]/);
    const out: string[] = [];
    let i = 0;
    while (i < groups.length) {
      let best = -1;
      for (let j = i; j < groups.length; j++) {
        const d = groups.slice(i, j + 1).join('');
        if (d.length > 19) break;
        if (d.length >= 13 && luhnValid(d)) best = j;
      }
      if (best === -1) i++;
      else {
        out.push(groups.slice(i, best + 1).join(''));
        i = best + 1;
      }
    }
    return out;
  }

  it('agrees on random runs of digit groups', () => {
    let seed = 42;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    for (let t = 0; t < 2000; t++) {
      const parts: string[] = [];
      for (let g = 0, n = 1 + rnd(8); g < n; g++) parts.push(Array.from({ length: 1 + rnd(9) }, () => String(rnd(10))).join(''));
      const run = parts.map((p, k) => (k ? (rnd(2) ? ' ' : '-') : '') + p).join('');
      const found = findCardNumbers(run).map((s) => run.slice(s.start, s.end).replace(/[ -]/g, ''));
      expect(found, run).toEqual(reference(run));
    }
  });
});

describe('mayContainCardNumber', () => {
  it('is false for text without a run of 13 digits', () => {
    expect(mayContainCardNumber('{"model":"gpt-4o-mini","max_tokens":1000,"messages":[{"role":"user","content":"call 555-123-4567"}]}')).toBe(false);
  });
  it('is true for any run of 13 digits with single separators, Luhn or not', () => {
    expect(mayContainCardNumber('4111 1111 1111 1')).toBe(true);
    expect(mayContainCardNumber('1234-5678-9012-3')).toBe(true);
  });
  it('is true when digits are JSON-escaped, which the regex cannot read', () => {
    expect(mayContainCardNumber('"\\u0034111111111111111"')).toBe(true);
  });
});
