import type { ChatCompletionChunk, FinishReason, Usage } from '@gw/contracts';
import { asRecord, parseEventJson } from '../shared/content.js';
import type { ChatContext, StreamEvent, StreamTranslator } from '../types.js';
import { completionId, finishReason, readParts, usageOf } from './chat.js';
import { parseError } from './errors.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];
type CandidateState = { tools: number; finished: boolean };

/**
 * Gemini SSE (`streamGenerateContent?alt=sse`: each event a whole GenerateContentResponse, no [DONE]) → OpenAI
 * chunks. Per candidate: a role chunk first, text parts as `content` deltas, thought parts as `reasoning_content`,
 * each functionCall part as one complete tool call (Gemini never splits arguments), and a finish chunk when the
 * candidate has a finishReason (tool_calls when it called a tool). usageMetadata comes with every event; the last
 * one counts. The stream is complete when every candidate seen has finished; a usage chunk (`choices: []`) follows.
 */
export class GeminiStreamTranslator implements StreamTranslator {
  private readonly id: string;
  private model: string;
  private readonly candidates = new Map<number, CandidateState>();
  private tools = 0;
  private lastUsage: Usage | null = null;
  private finished = false;

  constructor(private readonly ctx: ChatContext) {
    this.id = completionId(ctx);
    this.model = ctx.model;
  }

  private chunk(index: number, delta: Delta, finish: FinishReason | null = null): ChatCompletionChunk {
    return { id: this.id, object: 'chat.completion.chunk', created: this.ctx.created, model: this.model, choices: [{ index, delta, finish_reason: finish }] };
  }

  push(event: StreamEvent): ChatCompletionChunk[] {
    const e = parseEventJson(event.data);
    if (e['error'] !== undefined && e['candidates'] === undefined) throw parseError(200, event.data, {});
    if (typeof e['modelVersion'] === 'string') this.model = e['modelVersion'];
    const u = e['usageMetadata'];
    if (u && typeof u === 'object') this.lastUsage = usageOf(u as Record<string, unknown>);
    const out: ChatCompletionChunk[] = [];
    const candidates = Array.isArray(e['candidates']) ? (e['candidates'] as unknown[]) : [];
    if (candidates.length === 0 && e['promptFeedback'] && this.candidates.size === 0) {
      // the prompt was blocked: there will be no candidate
      this.candidates.set(0, { tools: 0, finished: true });
      out.push(this.chunk(0, { role: 'assistant', content: '' }), this.chunk(0, {}, 'content_filter'));
    }
    for (let i = 0; i < candidates.length; i++) {
      const c = asRecord(candidates[i], 'candidate');
      const index = typeof c['index'] === 'number' ? c['index'] : i;
      let state = this.candidates.get(index);
      if (!state) {
        state = { tools: 0, finished: false };
        this.candidates.set(index, state);
        out.push(this.chunk(index, { role: 'assistant', content: '' }));
      }
      const st = state;
      const parts = readParts((c['content'] as Record<string, unknown> | undefined)?.['parts'], this.ctx, () => this.tools++);
      if (parts.reasoning.length) out.push(this.chunk(index, { reasoning_content: parts.reasoning }));
      if (parts.text.length) out.push(this.chunk(index, { content: parts.text }));
      for (const call of parts.toolCalls) {
        out.push(this.chunk(index, { tool_calls: [{ index: st.tools++, id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } }] }));
      }
      let finish = finishReason(c['finishReason']);
      if (finish) {
        if (finish === 'stop' && st.tools > 0) finish = 'tool_calls';
        st.finished = true;
        out.push(this.chunk(index, {}, finish));
      }
    }
    if (!this.finished && this.candidates.size > 0 && [...this.candidates.values()].every((s) => s.finished)) {
      this.finished = true;
      if (this.lastUsage) out.push({ id: this.id, object: 'chat.completion.chunk', created: this.ctx.created, model: this.model, choices: [], usage: this.lastUsage });
    }
    return out;
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
