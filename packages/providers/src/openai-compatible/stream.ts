import { GatewayError, type ChatCompletionChunk, type Usage } from '@gw/contracts';
import type { ChatContext, StreamDecoder, StreamEvent, StreamTranslator } from '../types.js';
import { parseError as openAiParseError } from './errors.js';

/**
 * Server-sent events, per the WHATWG rules: lines end in LF, CRLF or CR (a CR at the end of one push may be the
 * first half of a CRLF in the next); `:` starts a comment; several `data:` lines join with LF; a blank line
 * dispatches the event; an event without data is not dispatched. Multi-byte characters split across pushes are
 * kept by the streaming TextDecoder.
 */
export class SseDecoder implements StreamDecoder {
  private readonly text = new TextDecoder();
  private buf = '';
  private data: string[] = [];
  private event: string | undefined;
  private pendingCr = false;

  push(bytes: Uint8Array): StreamEvent[] {
    return this.feed(this.text.decode(bytes, { stream: true }), false);
  }

  end(): StreamEvent[] {
    const out = this.feed(this.text.decode(), true);
    if (this.buf.length) this.line(this.buf, out);
    this.buf = '';
    this.dispatch(out);
    return out;
  }

  private feed(chunk: string, final: boolean): StreamEvent[] {
    const out: StreamEvent[] = [];
    let s = chunk;
    if (this.pendingCr) {
      this.pendingCr = false;
      if (s.startsWith('\n')) s = s.slice(1);
    }
    let text = this.buf + s;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(text.slice(start, i), out);
      if (c === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else if (!final) this.pendingCr = true;
      }
      start = i + 1;
    }
    text = text.slice(start);
    this.buf = text;
    return out;
  }

  private line(line: string, out: StreamEvent[]): void {
    if (line.length === 0) {
      this.dispatch(out);
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }

  private dispatch(out: StreamEvent[]): void {
    if (this.data.length) {
      const ev: StreamEvent = { data: this.data.join('\n') };
      if (this.event !== undefined) ev.event = this.event;
      out.push(ev);
    }
    this.data = [];
    this.event = undefined;
  }
}

type RawChunk = { object?: unknown; choices?: unknown; usage?: Usage | null; error?: unknown };

/**
 * OpenAI chunks pass through as they are (the upstream `id`, `created` and `model` are kept); usage is tracked
 * and the stream is complete after `data: [DONE]`. An `error` event in the stream becomes a GatewayError.
 */
export class OpenAiStreamTranslator implements StreamTranslator {
  private lastUsage: Usage | null = null;
  private finished = false;

  /**
   * `fix` normalises each parsed chunk in place (a provider whose chunks differ a little from OpenAI's);
   * `parseError` reads an error event in the provider's own error shape.
   */
  constructor(
    readonly ctx: ChatContext,
    private readonly fix: ((chunk: Record<string, unknown>) => void) | null = null,
    private readonly parseError: typeof openAiParseError = openAiParseError,
  ) {}

  push(event: StreamEvent): ChatCompletionChunk[] {
    const data = event.data;
    if (data === '[DONE]' || data.trim() === '[DONE]') {
      this.finished = true;
      return [];
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      throw new GatewayError('PROVIDER_ERROR', 'the upstream stream sent an event that is not JSON');
    }
    if (!parsed || typeof parsed !== 'object') throw new GatewayError('PROVIDER_ERROR', 'the upstream stream sent an event that is not an object');
    const chunk = parsed as RawChunk;
    if (event.event === 'error' || (chunk.error !== undefined && chunk.choices === undefined)) throw this.parseError(200, data, {});
    if (!Array.isArray(chunk.choices)) throw new GatewayError('PROVIDER_ERROR', 'the upstream stream sent a chunk without choices');
    if (this.fix) this.fix(parsed as Record<string, unknown>);
    if (chunk.usage) this.lastUsage = chunk.usage;
    return [parsed as ChatCompletionChunk];
  }

  finish(): ChatCompletionChunk[] {
    return [];
  }

  usage(): Usage | null {
    return this.lastUsage;
  }

  done(): boolean {
    return this.finished;
  }
}
