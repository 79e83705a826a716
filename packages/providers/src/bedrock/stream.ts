import { GatewayError, type ChatCompletionChunk, type FinishReason, type Usage } from '@gw/contracts';
import { num, parseEventJson } from '../shared/content.js';
import type { ChatContext, StreamEvent, StreamTranslator } from '../types.js';
import { markStopSequence } from '../shared/stop-sequence.js';
import { completionId, finishReason, JSON_TOOL, usageOf } from './chat.js';
import { bedrockStopSequence } from './stop-sequence.js';
import { parseStreamException } from './errors.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];
type Block = { kind: 'tool'; toolIndex: number; args: boolean } | { kind: 'json' };

/**
 * ConverseStream events (decoded from the event-stream by EventStreamDecoder) → OpenAI chunks:
 * - messageStart → the role chunk; contentBlockDelta text → `content`, reasoningContent.text → `reasoning_content`
 *   (signatures and redacted reasoning are dropped); contentBlockStart with a toolUse → a tool call (OpenAI index
 *   by order of appearance), whose `toolUse.input` deltas are its argument fragments; the JSON_TOOL of the
 *   json_schema fallback is streamed as content.
 * - messageStop → the finish chunk (its stopReason mapped, a matched stop sequence marked: stop-sequence.ts; the
 *   stream is then complete); metadata → usage, sent as a usage chunk (`choices: []`) as OpenAI does with
 *   include_usage.
 * - an exception message (throttlingException, validationException, ...) → its GatewayError.
 */
export class BedrockStreamTranslator implements StreamTranslator {
  private readonly id: string;
  private readonly blocks = new Map<number, Block>();
  private tools = 0;
  private jsonAnswer = false;
  private lastUsage: Usage | null = null;
  private started = false;
  private finished = false;

  constructor(private readonly ctx: ChatContext) {
    this.id = completionId(ctx);
  }

  private chunk(delta: Delta, finish: FinishReason | null = null): ChatCompletionChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.ctx.created,
      model: this.ctx.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    };
  }

  /** the role chunk, once, before anything else (a stream may start with a delta if messageStart was lost) */
  private opening(out: ChatCompletionChunk[]): ChatCompletionChunk[] {
    if (!this.started) {
      this.started = true;
      out.unshift(this.chunk({ role: 'assistant', content: '' }));
    }
    return out;
  }

  push(event: StreamEvent): ChatCompletionChunk[] {
    const type = event.event ?? '';
    if (type.startsWith('exception:'))
      throw parseStreamException(type.slice('exception:'.length), event.data);
    const e = parseEventJson(event.data);
    switch (type) {
      case 'messageStart':
        return this.opening([]);
      case 'contentBlockStart':
        return this.opening(
          this.blockStart(num(e['contentBlockIndex']), (e['start'] ?? {}) as Record<string, unknown>),
        );
      case 'contentBlockDelta':
        return this.opening(
          this.blockDelta(num(e['contentBlockIndex']), (e['delta'] ?? {}) as Record<string, unknown>),
        );
      case 'contentBlockStop': {
        // a tool without arguments streams none: send `{}`, as the non-stream answer and OpenAI do
        const block = this.blocks.get(num(e['contentBlockIndex']));
        if (block?.kind === 'tool' && !block.args)
          return [this.chunk({ tool_calls: [{ index: block.toolIndex, function: { arguments: '{}' } }] })];
        return [];
      }
      case 'messageStop': {
        this.finished = true;
        let finish = finishReason(e['stopReason']) ?? 'stop';
        if (finish === 'tool_calls' && this.jsonAnswer && this.tools === 0) finish = 'stop';
        const chunk = this.chunk({}, finish);
        markStopSequence(chunk.choices[0]!, bedrockStopSequence(e['stopReason'], e['additionalModelResponseFields']));
        return this.opening([chunk]);
      }
      case 'metadata': {
        const u = e['usage'];
        if (!u || typeof u !== 'object') return [];
        this.lastUsage = usageOf(u as Record<string, unknown>);
        return [
          {
            id: this.id,
            object: 'chat.completion.chunk',
            created: this.ctx.created,
            model: this.ctx.model,
            choices: [],
            usage: this.lastUsage,
          },
        ];
      }
      default:
        return []; // event types added later are ignored
    }
  }

  private blockStart(index: number, start: Record<string, unknown>): ChatCompletionChunk[] {
    const tool = start['toolUse'] as Record<string, unknown> | undefined;
    if (!tool || typeof tool !== 'object') return [];
    if (tool['name'] === JSON_TOOL) {
      this.blocks.set(index, { kind: 'json' });
      this.jsonAnswer = true;
      return [];
    }
    const toolIndex = this.tools++;
    this.blocks.set(index, { kind: 'tool', toolIndex, args: false });
    return [
      this.chunk({
        tool_calls: [
          {
            index: toolIndex,
            id: String(tool['toolUseId']),
            type: 'function',
            function: { name: String(tool['name']), arguments: '' },
          },
        ],
      }),
    ];
  }

  private blockDelta(index: number, delta: Record<string, unknown>): ChatCompletionChunk[] {
    if (typeof delta['text'] === 'string')
      return delta['text'].length ? [this.chunk({ content: delta['text'] })] : [];
    const reasoning = delta['reasoningContent'] as Record<string, unknown> | undefined;
    if (reasoning && typeof reasoning === 'object') {
      const text = reasoning['text'];
      return typeof text === 'string' && text.length ? [this.chunk({ reasoning_content: text })] : [];
    }
    const tool = delta['toolUse'] as Record<string, unknown> | undefined;
    if (tool && typeof tool === 'object') {
      const block = this.blocks.get(index);
      if (!block)
        throw new GatewayError(
          'PROVIDER_ERROR',
          `the upstream stream sent tool input for content block ${index}, which it never started`,
        );
      const part = typeof tool['input'] === 'string' ? tool['input'] : '';
      if (!part.length) return [];
      if (block.kind === 'json') return [this.chunk({ content: part })];
      block.args = true;
      return [this.chunk({ tool_calls: [{ index: block.toolIndex, function: { arguments: part } }] })];
    }
    return []; // citations and other deltas: nothing an OpenAI client can use
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
