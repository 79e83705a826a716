import { GatewayError } from '@gw/contracts';
import { describe, expect, it } from 'vitest';
import { checkInput } from './check-input.js';

const VISA = '4111 1111 1111 1111';
const MC = '5500-0000-0000-0004';
const AMEX = '378282246310005';

function body(messages: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model: 'gpt-4o-mini', messages, ...extra });
}

describe('checkInput', () => {
  it('allows a body without card numbers', () => {
    expect(checkInput(body([{ role: 'user', content: 'hello, my order is 12345' }]), 'redact')).toEqual({ action: 'allow', findings: [] });
  });

  it('redacts a card in a string content and returns the re-serialised body', () => {
    const r = checkInput(body([{ role: 'user', content: `my card is ${VISA}` }]), 'redact');
    expect(r.action).toBe('redact');
    expect(r.findings).toEqual([{ detector: 'card_number', count: 1 }]);
    expect(JSON.parse(r.body!)).toEqual({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'my card is [REDACTED:card]' }] });
  });

  it('counts several cards across messages and multimodal text parts, leaving other parts alone', () => {
    const image = { type: 'image_url', image_url: { url: `https://img.example/${AMEX.replace(/ /g, '')}.png` } };
    const r = checkInput(
      body([
        { role: 'system', content: `never repeat ${MC}` },
        { role: 'user', content: [{ type: 'text', text: `visa ${VISA} and amex ${AMEX}` }, image] },
        { role: 'assistant', content: null },
      ]),
      'redact',
    );
    expect(r.findings).toEqual([{ detector: 'card_number', count: 3 }]);
    const out = JSON.parse(r.body!) as { messages: Array<{ content: unknown }> };
    expect(out.messages[0]!.content).toBe('never repeat [REDACTED:card]');
    expect(out.messages[1]!.content).toEqual([{ type: 'text', text: 'visa [REDACTED:card] and amex [REDACTED:card]' }, image]);
    expect(out.messages[2]!.content).toBeNull();
  });

  it('does not touch numbers outside message content: ids, names, tool calls, user, metadata', () => {
    const messages = [
      { role: 'user', name: '4111111111111111', content: 'what is the status?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_4111111111111111', type: 'function', function: { name: 'lookup', arguments: `{"card":"${VISA}"}` } }],
      },
      { role: 'tool', tool_call_id: '4111111111111111', content: 'shipped' },
    ];
    const text = body(messages, { user: '5500000000000004', metadata: { ref: AMEX } });
    expect(checkInput(text, 'redact')).toEqual({ action: 'allow', findings: [] });
    expect(checkInput(text, 'block')).toEqual({ action: 'allow', findings: [] });
  });

  it('leaves non-Luhn 16-digit numbers in content alone', () => {
    expect(checkInput(body([{ role: 'user', content: 'tracking 1234 5678 9012 3456' }]), 'redact')).toEqual({ action: 'allow', findings: [] });
  });

  it('blocks with a reason when the policy is block', () => {
    const r = checkInput(body([{ role: 'user', content: `${VISA} and ${MC}` }]), 'block');
    expect(r).toEqual({
      action: 'block',
      findings: [{ detector: 'card_number', count: 2 }],
      reason: 'the request contains 2 payment card numbers; card numbers are not allowed by policy',
    });
  });

  it('allows anything when the policy is off', () => {
    expect(checkInput(body([{ role: 'user', content: VISA }]), 'off')).toEqual({ action: 'allow', findings: [] });
  });

  it('finds a card whose digits the client JSON-escaped', () => {
    const text = '{"model":"m","messages":[{"role":"user","content":"\\u0034111111111111111"}]}';
    expect(checkInput(text, 'redact').findings).toEqual([{ detector: 'card_number', count: 1 }]);
  });

  it('answers INVALID_REQUEST for a body that is not JSON but looks like it holds a card', () => {
    expect(() => checkInput(`{"messages": ${VISA}`, 'redact')).toThrow(GatewayError);
  });

  it('allows a body without a messages array', () => {
    expect(checkInput(JSON.stringify({ input: VISA }), 'block')).toEqual({ action: 'allow', findings: [] });
  });
});
