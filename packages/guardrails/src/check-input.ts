import { GatewayError, type ModerationCheckResult, type ModerationConfig } from '@gw/contracts';
import { mayContainCardNumber, redactCardNumbers } from './card-number.js';

export type CardPolicy = ModerationConfig['cardNumbers'];

const ALLOW: ModerationCheckResult = { action: 'allow', findings: [] };

/**
 * The input check of a chat request body (JSON text). Only what the user wrote is looked at: each message's
 * `content` when it is a string, and the `text` of its `{type:"text"}` parts; ids, names, tool calls and every
 * other field are left alone. A body with no run of 13 digits is allowed without being parsed.
 */
export function checkInput(body: string, cards: CardPolicy): ModerationCheckResult {
  if (cards === 'off' || !mayContainCardNumber(body)) return ALLOW;

  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new GatewayError('INVALID_REQUEST', 'the request body is not valid JSON');
  }
  const count = redactMessages(parsed);
  if (count === 0) return ALLOW;
  const findings = [{ detector: 'card_number', count }];
  switch (cards) {
    case 'block':
      return {
        action: 'block',
        findings,
        reason: `the request contains ${count === 1 ? 'a payment card number' : `${count} payment card numbers`}; card numbers are not allowed by policy`,
      };
    case 'redact':
      return { action: 'redact', findings, body: JSON.stringify(parsed) };
    default:
      return assertUnreachable(cards);
  }
}

/** Redacts card numbers in place in the messages' user-written text; returns how many were found. */
function redactMessages(body: unknown): number {
  if (!isObject(body) || !Array.isArray(body['messages'])) return 0;
  let count = 0;
  for (const message of body['messages'] as unknown[]) {
    if (!isObject(message)) continue;
    const content = message['content'];
    if (typeof content === 'string') {
      const r = redactCardNumbers(content);
      if (r.count) message['content'] = r.text;
      count += r.count;
    } else if (Array.isArray(content)) {
      for (const part of content as unknown[]) {
        if (!isObject(part) || part['type'] !== 'text' || typeof part['text'] !== 'string') continue;
        const r = redactCardNumbers(part['text']);
        if (r.count) part['text'] = r.text;
        count += r.count;
      }
    }
  }
  return count;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function assertUnreachable(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}
