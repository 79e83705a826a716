import { GatewayError, type ChatCompletionChunk, type FinishReason, type Usage } from '@gw/contracts';
import { num, parseEventJson } from '../shared/content.js';
import type { ChatContext, StreamEvent, StreamTranslator } from '../types.js';
import { markStopSequence } from '../shared/stop-sequence.js';
import { completionId, finishReason, JSON_TOOL, stopSequence, usageOf } from './chat.js';
import { parseError } from './errors.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

/** What a content block index of the Anthropic stream turns into on the OpenAI side. */
type Block = { kind: 'text' } | { kind: 'thinking' } | { kind: 'tool'; toolIndex: number; args: boolean } | { kind: 'json' } | { kind: 'other' };

/**
 * Anthropic SSE (message_start, content_block_start/delta/stop, message_delta, message_stop, ping, error) → OpenAI
 * chunks. Text deltas are `content`, thinking deltas `reasoning_content`; each tool_use block is a tool call with
 * its own OpenAI index (0, 1, ... in order of appearance, whatever the Anthropic block index) whose arguments
 * arrive as `input_json_delta` fragments. The JSON_TOOL block of the json_schema fallback is streamed as content.
 * message_delta carries the stop reason (a finish chunk; a matched stop sequence in its gateway-internal field)
 * and the output tokens; message_stop ends the stream and is followed by a usage chunk (`choices: []`), as OpenAI
 * sends with include_usage.
 */
export class AnthropicStreamTranslator implements StreamTranslator {
  private readonly id: string;
  private model: string;
  private readonly blocks = new Map<number, Block>();
  private tools = 0;
  private jsonAnswer = false;
  private inputUsage: Record<string, unknown> | undefined;
  private outputTokens = 0;
  private lastUsage: Usage | null = null;
  private finished = false;

  constructor(private readonly ctx: ChatContext) {
    this.id = completionId(ctx);
    this.model = ctx.model;
  }

  private chunk(delta: Delta, finish: FinishReason | null = null): ChatCompletionChunk {
    return { id: this.id, object: 'chat.completion.chunk', created: this.ctx.created, model: this.model, choices: [{ index: 0, delta, finish_reason: finish }] };
  }

  push(event: StreamEvent): ChatCompletionChunk[] {
    const e = parseEventJson(event.data);
    const type = e['type'] ?? event.event;
    switch (type) {
      case 'message_start': {
        const m = (e['message'] ?? {}) as Record<string, unknown>;
        if (typeof m['model'] === 'string') this.model = m['model'];
        this.inputUsage = m['usage'] as Record<string, unknown> | undefined;
        this.outputTokens = num(this.inputUsage?.['output_tokens']);
        this.lastUsage = usageOf(this.inputUsage, this.outputTokens);
        return [this.chunk({ role: 'assistant', content: '' })];
      }
      case 'content_block_start':
        return this.blockStart(num(e['index']), (e['content_block'] ?? {}) as Record<string, unknown>);
      case 'content_block_delta':
        return this.blockDelta(num(e['index']), (e['delta'] ?? {}) as Record<string, unknown>);
      case 'message_delta': {
        const usage = e['usage'] as Record<string, unknown> | undefined;
        if (usage) {
          // the final counts; input fields are repeated there by newer API versions
          if (typeof usage['output_tokens'] === 'number') this.outputTokens = usage['output_tokens'];
          if (typeof usage['input_tokens'] === 'number') this.inputUsage = { ...this.inputUsage, ...usage };
          this.lastUsage = usageOf(this.inputUsage, this.outputTokens);
        }
        const d = (e['delta'] ?? {}) as Record<string, unknown>;
        let finish = finishReason(d['stop_reason']);
        if (finish === 'tool_calls' && this.jsonAnswer && this.tools === 0) finish = 'stop';
        if (!finish) return [];
        const chunk = this.chunk({}, finish);
        markStopSequence(chunk.choices[0]!, stopSequence(d['stop_reason'], d['stop_sequence']));
        return [chunk];
      }
      case 'message_stop': {
        this.finished = true;
        const usage: ChatCompletionChunk = { id: this.id, object: 'chat.completion.chunk', created: this.ctx.created, model: this.model, choices: [], usage: this.lastUsage };
        return this.lastUsage ? [usage] : [];
      }
      case 'error':
        throw parseError(200, event.data, {});
      case 'content_block_stop': {
        // a tool without arguments streams none: send `{}`, as the non-stream answer and OpenAI do
        const block = this.blocks.get(num(e['index']));
        if (block?.kind === 'tool' && !block.args) return [this.chunk({ tool_calls: [{ index: block.toolIndex, function: { arguments: '{}' } }] })];
        return [];
      }
      case 'ping':
        return [];
      default:
        return []; // event types added later by the API are ignored, as Anthropic asks clients to do
    }
  }

  private blockStart(index: number, block: Record<string, unknown>): ChatCompletionChunk[] {
    switch (block['type']) {
      case 'text': {
        this.blocks.set(index, { kind: 'text' });
        const text = block['text'];
        return typeof text === 'string' && text.length ? [this.chunk({ content: text })] : [];
      }
      case 'thinking':
        this.blocks.set(index, { kind: 'thinking' });
        return [];
      case 'tool_use': {
        if (block['name'] === JSON_TOOL) {
          this.blocks.set(index, { kind: 'json' });
          this.jsonAnswer = true;
          return [];
        }
        const toolIndex = this.tools++;
        this.blocks.set(index, { kind: 'tool', toolIndex, args: false });
        return [this.chunk({ tool_calls: [{ index: toolIndex, id: String(block['id']), type: 'function', function: { name: String(block['name']), arguments: '' } }] })];
      }
      default:
        this.blocks.set(index, { kind: 'other' });
        return [];
    }
  }

  private blockDelta(index: number, delta: Record<string, unknown>): ChatCompletionChunk[] {
    const block = this.blocks.get(index);
    if (!block) throw new GatewayError('PROVIDER_ERROR', `the upstream stream sent a delta for content block ${index}, which it never started`);
    switch (delta['type']) {
      case 'text_delta': {
        const text = typeof delta['text'] === 'string' ? delta['text'] : '';
        return text.length ? [this.chunk({ content: text })] : [];
      }
      case 'thinking_delta': {
        const text = typeof delta['thinking'] === 'string' ? delta['thinking'] : '';
        return text.length ? [this.chunk({ reasoning_content: text })] : [];
      }
      case 'input_json_delta': {
        const part = typeof delta['partial_json'] === 'string' ? delta['partial_json'] : '';
        if (!part.length) return [];
        if (block.kind === 'json') return [this.chunk({ content: part })];
        if (block.kind === 'tool') {
          block.args = true;
          return [this.chunk({ tool_calls: [{ index: block.toolIndex, function: { arguments: part } }] })];
        }
        return [];
      }
      default:
        return []; // signature_delta, citations_delta: nothing an OpenAI client can use
    }
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
