import type { ChatCompletionRequest } from '@gw/contracts';
import { applyUnsupported, type CompatibleOptions } from '../openai-compatible/chat.js';
import type { ChatContext, TranslateOptions } from '../types.js';

/**
 * DeepSeek chat completions: OpenAI's format with these differences.
 * Request:
 * - `developer` messages are `system` messages; an assistant turn's `reasoning_content` is never sent back
 *   (DeepSeek answers 400 when it is).
 * - response_format `json_schema` has no native equivalent: the stated fallback is DeepSeek's JSON mode
 *   (`json_object`) plus a system message that gives the schema (JSON mode also needs the word "json" in the
 *   prompt, which that message has). json_object passes through.
 * - `max_completion_tokens` is `max_tokens`. Not supported by any DeepSeek model (dropped, or a 400 in 'reject'
 *   mode): n above 1, logit_bias, user, store, metadata, service_tier, modalities, audio, reasoning_effort.
 * - The reasoner (`deepseek-reasoner` and any model whose name holds "reasoner") refuses, or silently ignores,
 *   temperature, top_p, presence_penalty, frequency_penalty, logprobs and top_logprobs: under the same switch.
 * Response and stream: `reasoning_content` (JSON and stream deltas) is already OpenAI-extended and passes through;
 * usage `prompt_cache_hit_tokens` becomes `prompt_tokens_details.cached_tokens` when the latter is missing.
 */

export const DEEPSEEK_UNSUPPORTED = [
  'logit_bias',
  'user',
  'store',
  'metadata',
  'service_tier',
  'modalities',
  'audio',
  'reasoning_effort',
] as const;
export const REASONER_UNSUPPORTED = [
  'temperature',
  'top_p',
  'presence_penalty',
  'frequency_penalty',
  'logprobs',
  'top_logprobs',
] as const;

type Msg = Record<string, unknown>;

export function isReasoner(model: string): boolean {
  return model.includes('reasoner');
}

function translateBody(
  body: Record<string, unknown>,
  req: ChatCompletionRequest,
  ctx: ChatContext,
  opts: TranslateOptions,
): void {
  const mct = body['max_completion_tokens'];
  if (mct !== undefined && mct !== null) body['max_tokens'] = mct;
  delete body['max_completion_tokens'];
  if (typeof body['n'] === 'number' && body['n'] <= 1) delete body['n'];
  applyUnsupported(body, ['n', ...DEEPSEEK_UNSUPPORTED], opts);
  if (isReasoner(ctx.model)) applyUnsupported(body, REASONER_UNSUPPORTED, opts);
  const messages = (body['messages'] as Msg[]).map((m) => {
    const out: Msg = { ...m };
    if (out['role'] === 'developer') out['role'] = 'system';
    delete out['reasoning_content'];
    return out;
  });
  const rf = req.response_format;
  if (rf?.type === 'json_schema') {
    body['response_format'] = { type: 'json_object' };
    const schema = JSON.stringify(rf.json_schema.schema ?? { type: 'object' });
    const about = rf.json_schema.description ? ` ${rf.json_schema.description}` : '';
    messages.unshift({
      role: 'system',
      content: `Answer with one JSON object (${rf.json_schema.name}) that matches this JSON schema:${about}\n${schema}`,
    });
  }
  body['messages'] = messages;
}

/** DeepSeek's cache usage names → OpenAI's (in place). */
export function fixUsage(usage: unknown): void {
  if (!usage || typeof usage !== 'object') return;
  const u = usage as Record<string, unknown>;
  const hit = u['prompt_cache_hit_tokens'];
  if (typeof hit !== 'number') return;
  const details = (
    u['prompt_tokens_details'] && typeof u['prompt_tokens_details'] === 'object'
      ? u['prompt_tokens_details']
      : {}
  ) as Record<string, unknown>;
  if (typeof details['cached_tokens'] !== 'number')
    u['prompt_tokens_details'] = { ...details, cached_tokens: hit };
}

export const deepseekOptions: CompatibleOptions = {
  body: translateBody,
  completion: (c) => fixUsage(c['usage']),
  chunk: () => (c) => fixUsage(c['usage']),
};
