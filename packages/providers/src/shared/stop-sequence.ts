import { STOP_SEQUENCE_FIELD, type ChatCompletion, type ChatCompletionChunk } from '@gw/contracts';

type Choice = ChatCompletion['choices'][number] | ChatCompletionChunk['choices'][number];

/**
 * What an upstream said about a stop sequence: `undefined` when it did not say one matched (a natural end, or an
 * upstream that does not tell), the matched sequence, or null when it said one matched without saying which.
 */
export type StopSequence = string | null | undefined;

/** The upstream's matched sequence, when it is a string (Anthropic's `stop_sequence`, Bedrock's field); else null. */
export function sequenceOf(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/**
 * Marks a choice (of a completion, or a stream's finish chunk) as ended by a stop sequence, in the gateway-internal
 * field `STOP_SEQUENCE_FIELD` (docs/adr/0008): only when its finish_reason is `stop` and the upstream said so.
 * Returns the choice.
 */
export function markStopSequence<C extends Choice>(choice: C, seq: StopSequence): C {
  if (seq !== undefined && choice.finish_reason === 'stop') choice[STOP_SEQUENCE_FIELD] = seq;
  return choice;
}
