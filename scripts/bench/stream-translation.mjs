// The cost of stream translation per chunk, per provider format: a real captured stream (packages/providers/test/
// fixtures), rebuilt as its wire bytes, decoded and translated to OpenAI chunks and serialised (what the executor
// does per upstream event) many times over. Reported: median over rounds of ns per upstream event, min and max.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { adapterFor } from '../../packages/providers/dist/index.js';

const FIX = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../packages/providers/test/fixtures');
const lines = (file) => readFileSync(path.join(FIX, file), 'utf8').split('\n').filter((l) => l.trim());
const enc = new TextEncoder();

const FORMATS = {
  openai: {
    type: 'openai',
    file: 'openai/openai-text.chunks.txt',
    wire: (ls) => [...ls.map((l) => `data: ${l}\n\n`), 'data: [DONE]\n\n'],
  },
  anthropic: {
    type: 'anthropic',
    file: 'anthropic/anthropic-text.chunks.txt',
    wire: (ls) => ls.map((l) => `event: ${JSON.parse(l).type}\ndata: ${l}\n\n`),
  },
  gemini: {
    type: 'gemini',
    file: 'google/google-text.chunks.txt',
    wire: (ls) => ls.map((l) => `data: ${l}\r\n\r\n`),
  },
};

function runOnce(chat, pieces, ctx) {
  const decoder = chat.createStreamDecoder();
  const translator = chat.createStreamTranslator(ctx);
  let bytes = 0;
  let out = 0;
  for (const p of pieces) {
    for (const ev of decoder.push(p)) {
      for (const c of translator.push(ev)) bytes += JSON.stringify(c).length;
      out++;
    }
  }
  for (const ev of decoder.end()) for (const c of translator.push(ev)) bytes += JSON.stringify(c).length;
  for (const c of translator.finish()) bytes += JSON.stringify(c).length;
  if (!translator.done()) throw new Error('stream not complete: the bench input is wrong');
  return { events: out, bytes };
}

export async function streamTranslationBench({ rounds = 15, minEventsPerRound = 200_000 } = {}) {
  const result = {};
  for (const [name, f] of Object.entries(FORMATS)) {
    const { chat } = adapterFor(f.type);
    const pieces = f.wire(lines(f.file)).map((s) => enc.encode(s));
    const ctx = { model: 'bench', requestId: 'bench', created: 1 };
    const { events } = runOnce(chat, pieces, ctx);
    const iterations = Math.max(1, Math.ceil(minEventsPerRound / events));
    for (let i = 0; i < iterations; i++) runOnce(chat, pieces, ctx); // warm-up
    const perEvent = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) runOnce(chat, pieces, ctx);
      perEvent.push(Number(process.hrtime.bigint() - t0) / (iterations * events));
    }
    perEvent.sort((a, b) => a - b);
    result[name] = {
      capture: f.file,
      eventsPerStream: events,
      nsPerEventMedian: Math.round(perEvent[Math.floor(rounds / 2)]),
      nsPerEventMin: Math.round(perEvent[0]),
      nsPerEventMax: Math.round(perEvent[rounds - 1]),
    };
  }
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await streamTranslationBench(), null, 2));
