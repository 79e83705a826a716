import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { countTokens as countCl100k } from 'gpt-tokenizer/encoding/cl100k_base';

/** Special tokens in user text are plain text to us: never refused, never counted as one token. */
const PLAIN = { disallowedSpecial: new Set<string>() };

export type TokenFamily = 'o200k' | 'cl100k' | 'claude' | 'gemini' | 'other';

/**
 * The tokenizer family of an upstream model name. OpenAI families are counted by their real BPE (gpt-tokenizer);
 * the others by an estimate from the o200k count (their tokenizers are not on npm): see ADR 0011.
 */
export function familyOf(model: string): TokenFamily {
  const m = model.toLowerCase();
  if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1|o3|o4|chatgpt-4o|gpt-oss)/.test(m)) return 'o200k';
  if (/^(gpt-4|gpt-3\.5|text-embedding)/.test(m)) return 'cl100k';
  if (m.includes('claude')) return 'claude';
  if (m.includes('gemini') || m.includes('gemma')) return 'gemini';
  return 'other';
}

/**
 * Tokens of other families per o200k token, rounded up so that the estimate errs on the large side (a prompt
 * sent to a window it overflows costs a failed call; one kept from a window it would fit only changes the order).
 * Claude's tokenizer gives about 1.2× the tokens of o200k on English and code; Gemini's SentencePiece about 1.1×;
 * unknown families (Llama, Mistral, ...) get 1.3× as a margin.
 */
const FACTOR: Record<Exclude<TokenFamily, 'o200k' | 'cl100k'>, number> = {
  claude: 1.2,
  gemini: 1.1,
  other: 1.3,
};

/** Per-message overhead of the chat formats (role and separators): OpenAI documents 3, plus 3 for the reply. */
const PER_MESSAGE = 4;

export class TokenCounter {
  /** one BPE count per family and text: a request is counted once however many targets ask */
  private o200k: number | null = null;
  private cl100k: number | null = null;

  constructor(
    private readonly text: string,
    private readonly messages: number,
  ) {}

  count(family: TokenFamily): number {
    const overhead = this.messages * PER_MESSAGE + 3;
    if (family === 'cl100k') return (this.cl100k ??= countCl100k(this.text, PLAIN)) + overhead;
    const base = (this.o200k ??= countO200k(this.text, PLAIN)) + overhead;
    return family === 'o200k' ? base : Math.ceil(base * FACTOR[family]);
  }
}
