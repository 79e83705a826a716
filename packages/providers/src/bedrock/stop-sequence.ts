import { sequenceOf, type StopSequence } from '../shared/stop-sequence.js';

/**
 * Converse says `stopReason: "stop_sequence"` for every model, but not which sequence matched. Anthropic models on
 * Bedrock can say it: `additionalModelResponseFieldPaths` (JSON pointers into the model's native answer) returns
 * Claude's own `stop_sequence` in `additionalModelResponseFields`. Converse answers it at the top (`/stop_sequence`,
 * as in a Messages answer); ConverseStream's messageStop carries it as in Claude's message_delta
 * (`{"delta":{"stop_sequence":…}}`, real capture: fixtures/providers/bedrock/amazon-bedrock-text.chunks.txt). Both
 * paths are asked for, and only when the request has stop sequences; other models return nothing for them, so
 * their matches are reported without the sequence.
 */
export const STOP_SEQUENCE_PATHS: readonly string[] = ['/stop_sequence', '/delta/stop_sequence'];

/** Converse's stopReason and additionalModelResponseFields (of the answer, or of messageStop) → the stop sequence. */
export function bedrockStopSequence(stopReason: unknown, fields: unknown): StopSequence {
  if (stopReason !== 'stop_sequence') return undefined;
  const f = (fields && typeof fields === 'object' ? fields : {}) as Record<string, unknown>;
  const delta = (f['delta'] && typeof f['delta'] === 'object' ? f['delta'] : {}) as Record<string, unknown>;
  return sequenceOf(f['stop_sequence'] ?? delta['stop_sequence']);
}
