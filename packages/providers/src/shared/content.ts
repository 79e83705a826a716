import { GatewayError, type ChatMessage, type ContentPart } from '@gw/contracts';

/**
 * Helpers the native (non OpenAI-compatible) adapters share to read an OpenAI request: content parts, data URLs,
 * a MIME type from a URL, tool arguments. Pure functions, no provider names.
 */

export type DataUrl = { mimeType: string; data: string };

const DATA_URL = /^data:([^;,]+)((?:;[^;,]+)*);base64,(.*)$/s;

/** `data:image/png;base64,AAAA` → its MIME type and base64 payload; null when it is not a base64 data URL. */
export function parseDataUrl(url: string): DataUrl | null {
  const m = DATA_URL.exec(url);
  if (!m) return null;
  return { mimeType: m[1]!.toLowerCase(), data: m[3]! };
}

export function isHttpUrl(url: string): boolean {
  return url.startsWith('https://') || url.startsWith('http://');
}

const MIME_BY_EXT: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
};

/** A MIME type guessed from the URL's file extension (no fetch): the adapter cannot know better. */
export function guessMimeType(url: string, fallback = 'image/jpeg'): string {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // not a URL: use the text as it is
  }
  const dot = path.lastIndexOf('.');
  if (dot < 0) return fallback;
  return MIME_BY_EXT[path.slice(dot + 1).toLowerCase()] ?? fallback;
}

/** The text of a message content (string, or the text and refusal parts of an array). */
export function textOf(content: string | ContentPart[] | null | undefined): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  let out = '';
  for (const p of content) {
    if (p.type === 'text') out += p.text;
    else if (p.type === 'refusal') out += p.refusal;
  }
  return out;
}

/** Parts of a content, a plain string being one text part. */
export function partsOf(content: string | ContentPart[] | null | undefined): ContentPart[] {
  if (content === null || content === undefined) return [];
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content;
}

/** The `arguments` JSON string of an assistant tool call, parsed (an empty string is `{}`); a 400 when it is not JSON. */
export function parseToolArguments(args: string, param: string): unknown {
  if (args.trim() === '') return {};
  try {
    return JSON.parse(args) as unknown;
  } catch {
    throw new GatewayError('INVALID_REQUEST', `${param} is not valid JSON`, { param });
  }
}

/** The system and developer messages joined into one instruction text, in order. */
export function systemText(messages: readonly ChatMessage[]): string | null {
  const texts: string[] = [];
  for (const m of messages) if (m.role === 'system' || m.role === 'developer') texts.push(textOf(m.content));
  return texts.length ? texts.join('\n\n') : null;
}

/** The `stop` parameter as a list. */
export function stopList(stop: string | string[] | null | undefined): string[] | null {
  if (stop === null || stop === undefined) return null;
  const list = typeof stop === 'string' ? [stop] : stop;
  return list.length ? list : null;
}

/**
 * A parameter this provider has no equivalent for: the request keeps going without it ('drop'), or the client
 * gets a 400 naming it ('reject').
 */
export function unsupported(name: string, mode: 'drop' | 'reject', why = 'is not supported by this provider'): void {
  if (mode === 'reject') throw new GatewayError('INVALID_REQUEST', `the parameter \`${name}\` ${why}`, { param: name });
}

/** A JSON body that must be an object, or a PROVIDER_ERROR saying the upstream answer is malformed. */
export function asRecord(v: unknown, what: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new GatewayError('PROVIDER_ERROR', `the upstream provider sent a malformed ${what}`);
  return v as Record<string, unknown>;
}

export function parseEventJson(data: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw new GatewayError('PROVIDER_ERROR', 'the upstream stream sent an event that is not JSON');
  }
  return asRecord(parsed, 'stream event');
}

export function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
