/**
 * Stop sequences, as providers apply them: the reply ends just before the first occurrence of any of them (the
 * sequence itself is not sent), and the answer says so in each provider's wire format: Anthropic and Bedrock name the
 * sequence (anthropic.ts, bedrock.ts), Cohere says STOP_SEQUENCE, Gemini and OpenAI only say they stopped.
 */

/**
 * The reply's pieces up to the first stop sequence found in their text, and that sequence (null: none occurs).
 * `stops` is the request's list as received (anything but non-empty strings is ignored).
 */
export function stopAt(pieces: readonly string[], stops: unknown): { pieces: string[]; matched: string | null } {
  if (!Array.isArray(stops) || !stops.length) return { pieces: [...pieces], matched: null };
  const text = pieces.join('');
  let at = -1;
  let matched: string | null = null;
  for (const s of stops as unknown[]) {
    if (typeof s !== 'string' || !s.length) continue;
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) {
      at = i;
      matched = s;
    }
  }
  if (matched === null) return { pieces: [...pieces], matched: null };
  const out: string[] = [];
  let used = 0;
  for (const p of pieces) {
    if (used >= at) break;
    const part = p.slice(0, at - used);
    if (part.length) out.push(part);
    used += p.length;
  }
  return { pieces: out, matched };
}

/**
 * Bedrock's `additionalModelResponseFields` for the requested `additionalModelResponseFieldPaths` (JSON pointers
 * into the model's native answer). Only Anthropic models have a native `stop_sequence`: Converse answers it as
 * a Messages answer holds it (`/stop_sequence`), ConverseStream's messageStop as Claude's message_delta does
 * (`/delta/stop_sequence` → `{"delta":{"stop_sequence":…}}`, the shape of a real capture). Undefined when nothing
 * requested is there.
 */
export function bedrockResponseFields(
  model: string,
  paths: readonly string[] | undefined,
  sequence: string | null,
  stream: boolean,
): Record<string, unknown> | undefined {
  if (!model.includes('anthropic.') || !paths?.length) return undefined;
  if (stream) return paths.includes('/delta/stop_sequence') ? { delta: { stop_sequence: sequence } } : undefined;
  return paths.includes('/stop_sequence') ? { stop_sequence: sequence } : undefined;
}
