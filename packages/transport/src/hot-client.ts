import { createInbox, headers as natsHeaders, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { FRAME_HEADER, GatewayError, HEADERS, type EventContract, type FrameType, type RpcContract, type StreamContract } from '@gw/contracts';
import type { z } from 'zod';
import { decodeJson, encodeJson, errorFromFrame, type Frame } from './frames.js';

type Sink = (frame: Frame | GatewayError) => void;

export type CallOptions = { timeoutMs: number; requestId?: string; traceparent?: string };
export type OpenOptions = {
  /** time allowed for the first frame */
  firstFrameTimeoutMs: number;
  /** time allowed between two frames once the first came */
  idleTimeoutMs: number;
  headers?: Record<string, string>;
};

/**
 * The caller side of the hot path. One wildcard inbox subscription per connection; each call gets a token
 * under it, so a call costs one publish and no SUB/UNSUB round trip. Every call has a deadline; a missing
 * responder (NATS 503 status) becomes SERVICE_UNAVAILABLE at once, never a hang.
 */
export class HotClient {
  private readonly prefix: string;
  private seq = 0;
  private readonly sinks = new Map<string, Sink>();

  constructor(private readonly nc: NatsConnection) {
    this.prefix = createInbox();
    nc.subscribe(`${this.prefix}.*`, { callback: (_err, msg) => this.dispatch(msg) });
  }

  private dispatch(msg: Msg): void {
    const sink = this.sinks.get(msg.subject);
    if (!sink) return; // the caller has gone: late frames are dropped
    const h = msg.headers;
    const type = h?.get(FRAME_HEADER);
    if (!type) {
      if (h?.code === 503) sink(new GatewayError('SERVICE_UNAVAILABLE', 'no responder for the request'));
      else sink(new GatewayError('INTERNAL', `unexpected reply${h?.status ? ` (status ${h.status})` : ''}`));
      return;
    }
    sink({ type: type as FrameType, data: msg.data, headers: h });
  }

  private nextInbox(): string {
    this.seq = (this.seq + 1) | 0;
    return `${this.prefix}.${this.seq.toString(36)}`;
  }

  /** Request/reply with zod validation of both sides. */
  async call<C extends RpcContract>(
    contract: C,
    input: z.input<C['request']>,
    opts: CallOptions,
  ): Promise<z.infer<C['response']>> {
    const inbox = this.nextInbox();
    const h = natsHeaders();
    const deadlineAt = Date.now() + opts.timeoutMs;
    h.set(HEADERS.deadline, String(deadlineAt));
    if (opts.requestId) h.set(HEADERS.requestId, opts.requestId);
    if (opts.traceparent) h.set(HEADERS.traceparent, opts.traceparent);
    const frame = await new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.sinks.delete(inbox);
        reject(new GatewayError('DEADLINE_EXCEEDED', `${contract.service} did not answer within ${opts.timeoutMs} ms`, { status: 503 }));
      }, opts.timeoutMs);
      this.sinks.set(inbox, (f) => {
        clearTimeout(timer);
        this.sinks.delete(inbox);
        if (f instanceof GatewayError) reject(f);
        else resolve(f);
      });
      this.nc.publish(contract.subject, encodeJson(input), { reply: inbox, headers: h });
    });
    if (frame.type === 'error') throw errorFromFrame(frame);
    const parsed = contract.response.safeParse(decodeJson(frame.data));
    if (!parsed.success) throw new GatewayError('INTERNAL', `${contract.subject}: malformed reply`);
    return parsed.data as z.infer<C['response']>;
  }

  /** Fire and forget. */
  emit<C extends EventContract>(contract: C, input: z.input<C['schema']>, requestId?: string): void {
    const h = natsHeaders();
    if (requestId) h.set(HEADERS.requestId, requestId);
    this.nc.publish(contract.subject, encodeJson(input), { headers: h });
  }

  /**
   * A streamed call: the body goes as is (never re-serialised), metadata travels in headers, and frames come
   * back in order on the caller's inbox. The stream fails with DEADLINE_EXCEEDED when the first frame, or the
   * next one, does not come in time: a responder that died mid-stream never leaves the caller hanging.
   */
  open(contract: Pick<StreamContract, 'subject' | 'service'>, body: Uint8Array, opts: OpenOptions): FrameStream {
    const inbox = this.nextInbox();
    const stream = new FrameStream(inbox, contract.service, opts, () => this.sinks.delete(inbox));
    this.sinks.set(inbox, (f) => stream.push(f));
    const h = natsHeaders();
    if (opts.headers) for (const k in opts.headers) h.set(k, opts.headers[k] as string);
    this.nc.publish(contract.subject, body, { reply: inbox, headers: h });
    stream.arm(opts.firstFrameTimeoutMs);
    return stream;
  }
}

/** An async-iterable queue of frames with first-frame and idle deadlines. */
export class FrameStream implements AsyncIterable<Frame> {
  private readonly queue: Array<Frame | GatewayError> = [];
  private waiter: ((v: Frame | GatewayError) => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private first = true;

  constructor(
    readonly inbox: string,
    private readonly service: string,
    private readonly opts: OpenOptions,
    private readonly onClose: () => void,
  ) {}

  arm(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const what = this.first ? 'did not start answering' : 'stopped answering';
      this.push(new GatewayError('DEADLINE_EXCEEDED', `${this.service} ${what} within ${ms} ms`, { status: 504 }));
    }, ms);
  }

  push(f: Frame | GatewayError): void {
    if (this.closed) return;
    const terminal = f instanceof GatewayError || f.type === 'end' || f.type === 'response' || f.type === 'error';
    if (!terminal) {
      this.first = false;
      this.arm(this.opts.idleTimeoutMs);
    }
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w(f);
    } else this.queue.push(f);
    if (terminal) this.close();
  }

  /** Next frame; throws a GatewayError on timeout or a missing responder. `error` frames are returned, not thrown. */
  async next(): Promise<Frame | null> {
    const item = this.queue.shift() ?? (this.closed ? null : await new Promise<Frame | GatewayError>((r) => (this.waiter = r)));
    if (item === null) return null;
    if (item instanceof GatewayError) throw item;
    return item;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.onClose();
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w(new GatewayError('CANCELLED', 'stream closed'));
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Frame> {
    try {
      for (;;) {
        const f = await this.next();
        if (!f) return;
        yield f;
        if (f.type === 'end' || f.type === 'response' || f.type === 'error') return;
      }
    } finally {
      this.close();
    }
  }
}

export { GatewayError };
export type { Frame };
export { errorFromFrame, decodeJson };
