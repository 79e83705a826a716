import type { AnthropicStopReason, ChatCompletionChunk, Usage } from '@gw/contracts';
import { anthropicUsage, matchedStopSequence, messageId, stopReason } from './response.js';

/** One Anthropic SSE event: its name and its JSON body. */
export type AnthropicEvent = { event: string; data: Record<string, unknown> };

type Block = { kind: 'text' | 'thinking' | 'tool'; index: number };

/**
 * The internal OpenAI chunks → the Anthropic SSE sequence: message_start, then per content block
 * content_block_start / content_block_delta (text_delta, thinking_delta, input_json_delta) / content_block_stop,
 * then message_delta (stop_reason, the matched stop_sequence when the finish chunk says one, and usage) and
 * message_stop. OpenAI deltas interleave freely; Anthropic blocks are sequential, so a delta of another kind closes
 * the open block and opens the next index. Each OpenAI tool call index gets its own tool_use block. Usage comes
 * from the usage chunk (the internal request always asks for it).
 */
export class AnthropicStreamEncoder {
  private started = false;
  private open: Block | null = null;
  private nextIndex = 0;
  private readonly tools = new Map<number, number>();
  private stop: AnthropicStopReason | null = null;
  private stopSequence: string | null = null;
  private usage: Usage | null = null;
  private model: string;

  constructor(
    private readonly id: string,
    model: string,
  ) {
    this.model = model;
  }

  push(chunk: ChatCompletionChunk): AnthropicEvent[] {
    const out: AnthropicEvent[] = [];
    if (typeof chunk.model === 'string' && chunk.model) this.model = chunk.model;
    if (chunk.usage) this.usage = chunk.usage;
    this.begin(out, chunk.id);
    const choice = chunk.choices[0];
    if (!choice) return out;
    const d = choice.delta;
    if (d.reasoning_content) {
      this.ensure(out, 'thinking', () => ({ type: 'thinking', thinking: '', signature: '' }));
      out.push(delta(this.open!.index, { type: 'thinking_delta', thinking: d.reasoning_content }));
    }
    const text = d.content ?? d.refusal;
    if (text) {
      this.ensure(out, 'text', () => ({ type: 'text', text: '' }));
      out.push(delta(this.open!.index, { type: 'text_delta', text }));
    }
    for (const tc of d.tool_calls ?? []) {
      let index = this.tools.get(tc.index);
      if (index === undefined) {
        this.close(out);
        index = this.nextIndex++;
        this.tools.set(tc.index, index);
        this.open = { kind: 'tool', index };
        out.push({
          event: 'content_block_start',
          data: {
            type: 'content_block_start',
            index,
            content_block: {
              type: 'tool_use',
              id: tc.id ?? `toolu_${this.id}_${tc.index}`,
              name: tc.function?.name ?? '',
              input: {},
            },
          },
        });
      }
      const args = tc.function?.arguments;
      if (args) out.push(delta(index, { type: 'input_json_delta', partial_json: args }));
    }
    if (choice.finish_reason) {
      const matched = matchedStopSequence(choice);
      this.stop = stopReason(choice.finish_reason, matched);
      this.stopSequence = this.stop === 'stop_sequence' ? (matched ?? null) : null;
    }
    return out;
  }

  /** The end of a complete stream: the open block closes, then message_delta and message_stop. */
  end(): AnthropicEvent[] {
    const out: AnthropicEvent[] = [];
    this.begin(out, this.id);
    this.close(out);
    const u = anthropicUsage(this.usage);
    out.push({
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: this.stop ?? 'end_turn', stop_sequence: this.stopSequence },
        usage: {
          output_tokens: u.output_tokens,
          input_tokens: u.input_tokens,
          cache_read_input_tokens: u.cache_read_input_tokens,
          cache_creation_input_tokens: u.cache_creation_input_tokens,
        },
      },
    });
    out.push({ event: 'message_stop', data: { type: 'message_stop' } });
    return out;
  }

  private begin(out: AnthropicEvent[], chunkId: string): void {
    if (this.started) return;
    this.started = true;
    out.push({
      event: 'message_start',
      data: {
        type: 'message_start',
        message: {
          id: messageId(chunkId),
          type: 'message',
          role: 'assistant',
          model: this.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          // the internal stream reports usage at its end: the counts follow in message_delta
          usage: { input_tokens: 0, output_tokens: 0 },
        },
      },
    });
  }

  private ensure(
    out: AnthropicEvent[],
    kind: 'text' | 'thinking',
    block: () => Record<string, unknown>,
  ): void {
    if (this.open?.kind === kind) return;
    this.close(out);
    this.open = { kind, index: this.nextIndex++ };
    out.push({
      event: 'content_block_start',
      data: { type: 'content_block_start', index: this.open.index, content_block: block() },
    });
  }

  private close(out: AnthropicEvent[]): void {
    if (!this.open) return;
    out.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index: this.open.index } });
    this.open = null;
  }
}

function delta(index: number, d: Record<string, unknown>): AnthropicEvent {
  return { event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: d } };
}
