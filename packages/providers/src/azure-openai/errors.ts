import { GatewayError } from '@gw/contracts';
import { parseError as openAiParseError } from '../openai-compatible/errors.js';
import type { UpstreamHeaders } from '../types.js';

/**
 * Azure OpenAI errors are OpenAI's shape with Azure codes: `{"error":{"code":"content_filter","message":...,
 * "param":"prompt","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{...}}}}`.
 * A prompt refused by the content filter is MODERATION_BLOCKED (403 like the gateway's own moderation, not
 * retryable: the same prompt is refused again); `DeploymentNotFound` (404) is a retryable provider error like OpenAI's model_not_found; the rest
 * (401/403, 429 with retry-after, 5xx) follows the OpenAI mapping.
 */
export function parseError(status: number, body: string, headers: UpstreamHeaders): GatewayError {
  if (status === 400 && body.includes('content_filter')) {
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = null;
    }
    const e = (
      parsed as { error?: { code?: unknown; message?: unknown; innererror?: { code?: unknown } } } | null
    )?.error;
    if (e && (e.code === 'content_filter' || e.innererror?.code === 'ResponsibleAIPolicyViolation')) {
      return new GatewayError(
        'MODERATION_BLOCKED',
        typeof e.message === 'string' ? e.message : 'the upstream content filter refused the prompt',
        { param: 'messages' },
      );
    }
  }
  return openAiParseError(status, body, headers);
}
