import { readFileSync } from 'node:fs';
import type { ChatCompletionChunk } from '@gw/contracts';
import { SseDecoder } from '../openai-compatible/stream.js';
import type { ChatContext, StreamTranslator } from '../types.js';

/** Test helpers of the adapters' specs (not exported by the package). */

export const fixture = (p: string): string =>
  readFileSync(new URL(`../../test/fixtures/${p}`, import.meta.url), 'utf8');

/** The lines of a vercel/ai `*.chunks.txt` capture, as an SSE wire: `event: <type>` when asked, then `data:`; `[DONE]` when asked. */
export function wire(chunksFile: string, opts: { eventLines?: boolean; done?: boolean } = {}): string {
  const lines = fixture(chunksFile)
    .split('\n')
    .filter((l) => l.trim().length > 0);
  const events = lines.map((l) => {
    const type = opts.eventLines ? (JSON.parse(l) as { type?: string }).type : undefined;
    return `${type ? `event: ${type}\n` : ''}data: ${l}\n\n`;
  });
  return events.join('') + (opts.done ? 'data: [DONE]\n\n' : '');
}

/** Decodes a wire in pieces of `pieceSize` bytes and runs the translator over it. */
export function translate(text: string, translator: StreamTranslator, pieceSize = 61): ChatCompletionChunk[] {
  const bytes = new TextEncoder().encode(text);
  const d = new SseDecoder();
  const out: ChatCompletionChunk[] = [];
  for (let i = 0; i < bytes.length; i += pieceSize)
    for (const ev of d.push(bytes.subarray(i, i + pieceSize))) out.push(...translator.push(ev));
  for (const ev of d.end()) out.push(...translator.push(ev));
  out.push(...translator.finish());
  return out;
}

export const contentOf = (chunks: ChatCompletionChunk[]): string =>
  chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
export const reasoningOf = (chunks: ChatCompletionChunk[]): string =>
  chunks.map((c) => c.choices[0]?.delta.reasoning_content ?? '').join('');

export const ctx: ChatContext = { model: 'm', requestId: 'req-1', created: 1 };
