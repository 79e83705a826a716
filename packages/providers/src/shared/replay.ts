import type { ChatCompletionChunk, Usage } from '@gw/contracts';
import type { ChatAdapter, ChatContext } from '../types.js';

/**
 * Replays a provider stream body through an adapter's decoder and translator, the way the executor does: for
 * tests (recorded captures fed in random byte splits) and tooling. Pure, no I/O.
 */

/** A deterministic PRNG (mulberry32), so a failing split can be reproduced from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The bytes cut into pieces of 1..maxPiece bytes at random places (multi-byte characters get cut too). */
export function splitRandomly(bytes: Uint8Array, seed: number, maxPiece = 48): Uint8Array[] {
  const rnd = prng(seed);
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < bytes.length) {
    const n = 1 + Math.floor(rnd() * maxPiece);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

export type Replay = { chunks: ChatCompletionChunk[]; usage: Usage | null; done: boolean };

export function replayStream(chat: ChatAdapter, ctx: ChatContext, pieces: Iterable<Uint8Array>): Replay {
  const decoder = chat.createStreamDecoder();
  const translator = chat.createStreamTranslator(ctx);
  const chunks: ChatCompletionChunk[] = [];
  for (const piece of pieces) for (const ev of decoder.push(piece)) chunks.push(...translator.push(ev));
  for (const ev of decoder.end()) chunks.push(...translator.push(ev));
  chunks.push(...translator.finish());
  return { chunks, usage: translator.usage(), done: translator.done() };
}

/** What the chunks of choice `index` add up to (content, reasoning, tool calls by index, the last finish reason). */
export function collect(chunks: readonly ChatCompletionChunk[], index = 0) {
  let content = '';
  let reasoning = '';
  let finish: string | null = null;
  const tools: Array<{ id: string; name: string; arguments: string }> = [];
  for (const c of chunks) {
    for (const ch of c.choices) {
      if (ch.index !== index) continue;
      content += ch.delta.content ?? '';
      reasoning += ch.delta.reasoning_content ?? '';
      for (const t of ch.delta.tool_calls ?? []) {
        const cur = (tools[t.index] ??= { id: '', name: '', arguments: '' });
        if (t.id) cur.id = t.id;
        if (t.function?.name) cur.name += t.function.name;
        cur.arguments += t.function?.arguments ?? '';
      }
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  return { content, reasoning, tools, finish };
}
