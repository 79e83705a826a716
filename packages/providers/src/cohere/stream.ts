import { GatewayError, type ChatCompletionChunk, type FinishReason, type Usage } from '@gw/contracts';
import { num, parseEventJson } from '../shared/content.js';
import type { ChatContext, StreamEvent, StreamTranslator } from '../types.js';
import { markStopSequence } from '../shared/stop-sequence.js';
import { completionId, finishReason, stopSequence, usageOf } from './chat.js';
import { parseError } from './errors.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

function at(e: unknown, ...path: string[]): unknown {
  let v: unknown = e;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/**
 * Cohere v2 chat SSE (`event: <type>` + `data: {"type":...}`; no [DONE]) → OpenAI chunks:
 * message-start → the role chunk; content-delta → `content` (text items) or `reasoning_content` (thinking
 * items); tool-call-start → a tool call with its id and name (OpenAI index = Cohere's tool call index, in order),
 * tool-call-delta → its argument fragments, tool-call-end → `{}` when no fragment came (a tool without
 * parameters); tool-plan-delta, citations and content-start/end carry nothing an OpenAI client uses;
 * message-end → the finish chunk, then a usage chunk (`choices: []`) and the stream is complete.
 */
export class CohereStreamTranslator implements StreamTranslator {
  private readonly id: string;
  private readonly toolArgs = new Map<number, boolean>();
  private lastUsage: Usage | null = null;
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

  push(event: StreamEvent): ChatCompletionChunk[] {
    const e = parseEventJson(event.data);
    const type = e['type'] ?? event.event;
    switch (type) {
      case 'message-start':
        return [this.chunk({ role: 'assistant', content: '' })];
      case 'content-delta': {
        const text = at(e, 'delta', 'message', 'content', 'text');
        if (typeof text === 'string' && text.length) return [this.chunk({ content: text })];
        const thinking = at(e, 'delta', 'message', 'content', 'thinking');
        if (typeof thinking === 'string' && thinking.length)
          return [this.chunk({ reasoning_content: thinking })];
        return [];
      }
      case 'tool-call-start': {
        const index = num(e['index']);
        const call = at(e, 'delta', 'message', 'tool_calls') as Record<string, unknown> | undefined;
        const name = at(call, 'function', 'name');
        if (!call || typeof name !== 'string')
          throw new GatewayError('PROVIDER_ERROR', 'the upstream stream started a tool call without a name');
        const args = at(call, 'function', 'arguments');
        const first = typeof args === 'string' ? args : '';
        this.toolArgs.set(index, first.length > 0);
        return [
          this.chunk({
            tool_calls: [
              { index, id: String(call['id']), type: 'function', function: { name, arguments: first } },
            ],
          }),
        ];
      }
      case 'tool-call-delta': {
        const index = num(e['index']);
        if (!this.toolArgs.has(index))
          throw new GatewayError(
            'PROVIDER_ERROR',
            `the upstream stream sent arguments for tool call ${index}, which it never started`,
          );
        const part = at(e, 'delta', 'message', 'tool_calls', 'function', 'arguments');
        if (typeof part !== 'string' || !part.length) return [];
        this.toolArgs.set(index, true);
        return [this.chunk({ tool_calls: [{ index, function: { arguments: part } }] })];
      }
      case 'tool-call-end': {
        const index = num(e['index']);
        if (this.toolArgs.get(index) === false) {
          this.toolArgs.set(index, true);
          return [this.chunk({ tool_calls: [{ index, function: { arguments: '{}' } }] })];
        }
        return [];
      }
      case 'message-end': {
        this.finished = true;
        const delta = (e['delta'] ?? {}) as Record<string, unknown>;
        if (delta['error'] !== undefined && delta['error'] !== null)
          throw parseError(200, JSON.stringify({ message: delta['error'] }), {});
        this.lastUsage = usageOf(delta['usage']);
        const finish = this.chunk({}, finishReason(delta['finish_reason']) ?? 'stop');
        markStopSequence(finish.choices[0]!, stopSequence(delta['finish_reason']));
        const out = [finish];
        out.push({
          id: this.id,
          object: 'chat.completion.chunk',
          created: this.ctx.created,
          model: this.ctx.model,
          choices: [],
          usage: this.lastUsage,
        });
        return out;
      }
      case 'error':
        throw parseError(200, event.data, {});
      default:
        return []; // content-start/end, tool-plan-delta, citation-start/end, debug: nothing an OpenAI client uses
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
