import { STOP_SEQUENCE_FIELD } from '@gw/contracts';

/** The field as JSON.stringify writes a key: inside a JSON string its quotes would be escaped, so this is a key. */
const KEY = Buffer.from(`"${STOP_SEQUENCE_FIELD}":`, 'utf8');

/**
 * The executor's completion or chunk JSON as an OpenAI client gets it: without the gateway-internal
 * STOP_SEQUENCE_FIELD of its choices (docs/adr/0008). Bytes without the key (all but a stop-sequence finish) are
 * returned as they are; bytes with it are parsed, the field deleted and the rest stringified again, which gives
 * the executor's own bytes back but for the field (the executor wrote them with JSON.stringify too).
 */
export function withoutInternalFields(data: Uint8Array): Uint8Array | string {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.indexOf(KEY) < 0) return data;
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8'));
  } catch {
    return data; // not JSON: passed on as received, as before
  }
  const choices = (value as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices)) return data;
  for (const c of choices) if (c && typeof c === 'object') delete (c as Record<string, unknown>)[STOP_SEQUENCE_FIELD];
  return JSON.stringify(value);
}
