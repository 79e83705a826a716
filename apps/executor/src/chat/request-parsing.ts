import { GatewayError } from '@gw/contracts';
import type { z } from 'zod';

const decoder = new TextDecoder();

/** A JSON header (gw-meta, gw-plan) against its schema: null when absent or malformed. */
export function parseHeader<T>(raw: string | undefined, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }): T | null {
  if (!raw) return null;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  const parsed = schema.safeParse(v);
  return parsed.success ? parsed.data : null;
}

/** The request body, parsed once against its schema. The ingress validated it; a bad one here is still a clean 400. */
export function parseBody<T>(data: Uint8Array, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(data));
  } catch {
    throw new GatewayError('INVALID_REQUEST', 'the request body is not JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GatewayError('INVALID_REQUEST', issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid request', {
      param: issue?.path.join('.') || null,
    });
  }
  return parsed.data;
}
