/**
 * Deterministic text and token counting for the simulator. The counting rule is the one of the gateway's
 * estimator (packages/providers/src/shared/tokens.ts): ~4 characters a token, at least 1, 3 tokens of overhead
 * per message plus 3 to prime the reply. It is repeated here on purpose: the simulator stands for a provider and
 * must not import the gateway's code.
 */

export const CHARS_PER_TOKEN = 4;
const MESSAGE_OVERHEAD = 3;
const REPLY_PRIMING = 3;

export function tokensOf(text: string): number {
  return Math.max(1, Math.ceil(text.length / CHARS_PER_TOKEN));
}

/** The characters of a message's content: a string, or text parts of an array. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content) {
    if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') out += (part as { text: string }).text;
  }
  return out;
}

export function promptTokens(messages: readonly unknown[]): number {
  let total = REPLY_PRIMING;
  for (const m of messages) {
    if (!m || typeof m !== 'object') continue;
    const msg = m as { content?: unknown; name?: unknown; tool_calls?: unknown };
    let chars = contentText(msg.content).length;
    if (typeof msg.name === 'string') chars += msg.name.length;
    if (Array.isArray(msg.tool_calls)) {
      for (const c of msg.tool_calls as Array<{ function?: { name?: string; arguments?: string } }>) {
        chars += (c.function?.name?.length ?? 0) + (c.function?.arguments?.length ?? 0);
      }
    }
    total += MESSAGE_OVERHEAD + Math.ceil(chars / CHARS_PER_TOKEN);
  }
  return total;
}

function argumentValue(schema: unknown, hint: string): unknown {
  const s = (schema ?? {}) as { type?: unknown; enum?: unknown[] };
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  switch (s.type) {
    case 'number':
    case 'integer':
      return 42;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return hint.slice(0, 40) || 'sim';
  }
}

/** Deterministic JSON arguments for a tool's JSON schema: every required property (or every property) with a value of its type. */
export function schemaArguments(parameters: unknown, hint: string): string {
  const params = (parameters ?? {}) as { properties?: Record<string, unknown>; required?: unknown };
  const props = params.properties ?? {};
  const names = Array.isArray(params.required) ? (params.required as string[]) : Object.keys(props);
  const out: Record<string, unknown> = {};
  for (const n of names) out[n] = argumentValue(props[n], hint);
  return JSON.stringify(out);
}

/** Splits tool arguments into a few deltas, as providers stream them. */
export function argumentDeltas(args: string): string[] {
  const size = Math.max(1, Math.ceil(args.length / 4));
  const out: string[] = [];
  for (let i = 0; i < args.length; i += size) out.push(args.slice(i, i + size));
  return out;
}

/** Ids for answers: unique in this process, e.g. `msg_m3x1a2`. */
let seq = 0;
export function nextId(prefix: string): string {
  seq = (seq + 1) % 0x7fffffff;
  return `${prefix}${Date.now().toString(36)}${seq.toString(36)}`;
}

const FILLER = [' sim', ' ans', ' wer', ' tok', ' ens', ' are', ' her', ' end'];

/** Exactly `n` pieces of 4 characters (so exactly `n` tokens), the same for the same n. */
export function fillerPieces(n: number): string[] {
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = FILLER[i % FILLER.length]!;
  return out;
}

/** The default answer: derived from the last user message, split into words (each a stream chunk). */
export function replyPieces(lastUserText: string): string[] {
  const text = `Simulated reply: ${lastUserText.slice(0, 400).trim() || '(empty)'}`;
  const pieces: string[] = [];
  let start = 0;
  for (let i = 1; i < text.length; i++) {
    if (text.charCodeAt(i) === 32 /* space */) {
      pieces.push(text.slice(start, i));
      start = i;
    }
  }
  pieces.push(text.slice(start));
  return pieces;
}

/** Keeps whole pieces while they fit in `maxTokens` (cutting the first one if it alone is too long). */
export function capPieces(pieces: string[], maxTokens: number | null): { pieces: string[]; capped: boolean } {
  if (maxTokens === null) return { pieces, capped: false };
  const maxChars = maxTokens * CHARS_PER_TOKEN;
  let chars = 0;
  for (let i = 0; i < pieces.length; i++) {
    chars += pieces[i]!.length;
    if (chars > maxChars) {
      if (i === 0) return { pieces: [pieces[0]!.slice(0, maxChars)], capped: true };
      return { pieces: pieces.slice(0, i), capped: true };
    }
  }
  return { pieces, capped: false };
}

/** FNV-1a, for deterministic embeddings and ids. */
export function hash32(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * A deterministic embedding: the words of the text hashed into `dims` buckets (feature hashing), L2-normalised.
 * Texts that share words point in similar directions, which is what a semantic cache test needs.
 */
export function embed(text: string, dims: number): number[] {
  const v = new Array<number>(dims).fill(0);
  const words = text.toLowerCase().split(WORD_SPLIT);
  for (const w of words) {
    if (!w) continue;
    const h = hash32(w);
    v[h % dims]! += (h & 0x80000000) === 0 ? 1 : -1;
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  if (norm === 0) {
    v[0] = 1;
    return v;
  }
  const inv = 1 / Math.sqrt(norm);
  for (let i = 0; i < dims; i++) v[i] = v[i]! * inv;
  return v;
}
const WORD_SPLIT = /[^\p{L}\p{N}]+/u;
