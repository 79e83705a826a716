import type { Answer, Generation, Route, WireFormat } from './format.js';
import { chat, openaiError, openaiFormat } from './openai.js';
import { rewrite, type Json } from './openai-flavours.js';

/**
 * DeepSeek's chat completions under DEEPSEEK_PREFIX (base URL `${url}/deepseek`, path `/chat/completions`):
 * OpenAI's format, with DeepSeek's refusals (400, OpenAI's error shape): a `json_schema` response_format, `n`
 * above 1, an input message carrying `reasoning_content`, and, for a reasoner model (its name holds "reasoner"),
 * `logprobs` / `top_logprobs`. A reasoner answers with `reasoning_content` (JSON) and reasoning deltas before the
 * content deltas (stream). Usage has DeepSeek's cache fields `prompt_cache_hit_tokens` / `prompt_cache_miss_tokens`
 * (the older answers' form, without `prompt_tokens_details`).
 */

export const DEEPSEEK_PREFIX = '/deepseek';
const REASONING = ['Let', ' me', ' think', ' this', ' through', '.'];

function invalid(message: string): Answer {
  return openaiError(400, message, 'invalid_request_error');
}

export function validateDeepseek(raw: unknown): Answer | null {
  const body = (raw ?? {}) as Json;
  const rf = body['response_format'] as Json | undefined;
  if (rf && rf['type'] !== 'text' && rf['type'] !== 'json_object')
    return invalid('This response_format type is unavailable now');
  if (typeof body['n'] === 'number' && body['n'] > 1)
    return invalid('Invalid n value (currently only n = 1 is supported)');
  const messages = Array.isArray(body['messages']) ? (body['messages'] as Json[]) : [];
  if (messages.some((m) => m && m['reasoning_content'] !== undefined && m['reasoning_content'] !== null)) {
    return invalid(
      'The reasoning_content is an intermediate result for display purposes only and will not be included in the context for inference. Please remove the reasoning_content from your message to reduce network traffic.',
    );
  }
  if (
    typeof body['model'] === 'string' &&
    body['model'].includes('reasoner') &&
    (body['logprobs'] || body['top_logprobs'] !== undefined)
  ) {
    return invalid('deepseek-reasoner does not support the parameter `logprobs`');
  }
  return null;
}

function cacheUsage(usage: unknown): void {
  if (!usage || typeof usage !== 'object') return;
  const u = usage as Json;
  delete u['prompt_tokens_details'];
  u['prompt_cache_hit_tokens'] = 0;
  u['prompt_cache_miss_tokens'] = u['prompt_tokens'];
}

function handleChat(raw: unknown, gen: Generation): Answer {
  const refused = validateDeepseek(raw);
  if (refused) return refused;
  const model = (raw as Json)['model'];
  const reasoner = typeof model === 'string' && model.includes('reasoner');
  let reasoned = false;
  return rewrite(
    chat(raw, gen),
    (b) => {
      cacheUsage(b['usage']);
      if (reasoner)
        for (const c of b['choices'] as Json[])
          (c['message'] as Json)['reasoning_content'] = REASONING.join('');
    },
    (chunk) => {
      cacheUsage(chunk['usage']);
      const choice = (chunk['choices'] as Json[])[0];
      const delta = choice?.['delta'] as Json | undefined;
      if (reasoner && delta && !reasoned && delta['role'] === 'assistant') {
        // the role chunk opens the reasoning: its deltas go out before the first content delta
        reasoned = true;
        delta['content'] = null;
        delta['reasoning_content'] = '';
        const thoughts = REASONING.map((r) => ({
          ...chunk,
          choices: [{ ...choice, delta: { content: null, reasoning_content: r } }],
        }));
        return [chunk, ...thoughts];
      }
      return chunk;
    },
  );
}

const routes: Route[] = [{ method: 'POST', path: `${DEEPSEEK_PREFIX}/chat/completions`, handle: handleChat }];

export const deepseekFormat: WireFormat = {
  routes,
  error: (status, message) => openaiFormat.error(status, message),
  malformed: (stream) => openaiFormat.malformed(stream),
};
