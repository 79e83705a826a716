import type { PromptClass } from '@gw/contracts';

const DIMS = 512;

/** FNV-1a over a string's UTF-16 code units, into DIMS buckets. */
function bucket(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % DIMS;
}

const WORD = /[\p{L}\p{N}_]+/gu;

/**
 * A small deterministic local embedding: hashed word unigrams and bigrams plus character trigrams of each word,
 * L2-normalised. No model, no network: the same text gives the same vector on every replica.
 */
export function embed(text: string): Float32Array {
  const v = new Float32Array(DIMS);
  const words = text.toLowerCase().match(WORD) ?? [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    v[bucket(`w:${w}`)]! += 2;
    if (i > 0) v[bucket(`b:${words[i - 1]!} ${w}`)]! += 1;
    const padded = ` ${w} `;
    for (let j = 0; j + 3 <= padded.length; j++) v[bucket(`c:${padded.slice(j, j + 3)}`)]! += 0.5;
  }
  let norm = 0;
  for (let i = 0; i < DIMS; i++) norm += v[i]! * v[i]!;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < DIMS; i++) v[i]! /= norm;
  return v;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < DIMS; i++) s += a[i]! * b[i]!;
  return s;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

type Compiled = { name: string; keywords: RegExp | null; examples: Float32Array[]; threshold: number };

/** Classifies a prompt: keywords first (whole words, any case), then the nearest labelled example above its threshold. */
export class PromptClassifier {
  private readonly classes: Compiled[];

  constructor(classes: PromptClass[]) {
    this.classes = classes.map((c) => ({
      name: c.name,
      keywords: c.keywords.length
        ? new RegExp(`(?<![\\p{L}\\p{N}_])(?:${c.keywords.map(escape).join('|')})(?![\\p{L}\\p{N}_])`, 'iu')
        : null,
      examples: c.examples.map(embed),
      threshold: c.threshold,
    }));
  }

  get empty(): boolean {
    return this.classes.length === 0;
  }

  classify(text: string): { name: string; by: 'keyword' | 'similarity'; score: number } | null {
    for (const c of this.classes)
      if (c.keywords?.test(text)) return { name: c.name, by: 'keyword', score: 1 };
    let best: { name: string; by: 'similarity'; score: number } | null = null;
    let v: Float32Array | null = null;
    for (const c of this.classes) {
      if (!c.examples.length) continue;
      v ??= embed(text);
      for (const e of c.examples) {
        const score = cosine(v, e);
        if (score >= c.threshold && (!best || score > best.score))
          best = { name: c.name, by: 'similarity', score };
      }
    }
    return best;
  }
}
