import { describe, expect, it } from 'vitest';
import { PromptClass } from '@gw/contracts';
import { embed, PromptClassifier } from './classifier.js';

const classes = [
  PromptClass.parse({ name: 'code', keywords: ['typescript', 'stack trace', 'c++'] }),
  PromptClass.parse({
    name: 'legal',
    examples: [
      'review this contract clause for liability',
      'is this non-compete agreement enforceable',
      'draft terms of service for our app',
    ],
    threshold: 0.3,
  }),
];

describe('PromptClassifier', () => {
  const c = new PromptClassifier(classes);

  it('classifies by keyword, whole words only, any case', () => {
    expect(c.classify('Why does my TypeScript build fail?')).toMatchObject({ name: 'code', by: 'keyword' });
    expect(c.classify('here is the stack trace')).toMatchObject({ name: 'code' });
    expect(c.classify('I love c++ templates')).toMatchObject({ name: 'code' });
    expect(c.classify('typescripts are not a word')?.name).not.toBe('code');
  });

  it('classifies by similarity to labelled examples, above the threshold only', () => {
    const r = c.classify('Please review the liability clause of this contract');
    expect(r).toMatchObject({ name: 'legal', by: 'similarity' });
    expect(r!.score).toBeGreaterThanOrEqual(0.3);
    expect(c.classify('what a lovely sunny morning for a walk')).toBeNull();
  });

  it('the embedding is deterministic and normalised', () => {
    const a = embed('the same text');
    const b = embed('the same text');
    expect(Array.from(a)).toEqual(Array.from(b));
    let n = 0;
    for (const x of a) n += x * x;
    expect(n).toBeCloseTo(1, 5);
    expect(Array.from(embed('')).every((x) => x === 0)).toBe(true);
  });
});
