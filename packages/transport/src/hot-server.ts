import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node';
import { headers as natsHeaders } from '@nats-io/transport-node';
import {
  GatewayError,
  HEADERS,
  type EventContract,
  type RpcContract,
  type StreamContract,
} from '@gw/contracts';
import type { z } from 'zod';
import { decodeJson, encodeJson, frameHeaders } from './frames.js';

export type RpcContext = { requestId: string | undefined; deadlineAt: number | undefined };

/** Writes the reply frames of one streamed call to the caller's inbox. */
export class FrameWriter {
  private done = false;
  constructor(
    private readonly nc: NatsConnection,
    readonly reply: string,
  ) {}

  get finished(): boolean {
    return this.done;
  }
  start(headers: Record<string, string>): void {
    this.nc.publish(this.reply, undefined, { headers: frameHeaders('start', headers) });
  }
  chunk(data: Uint8Array | string): void {
    this.nc.publish(this.reply, data, { headers: frameHeaders('chunk') });
  }
  response(data: Uint8Array | string, headers?: Record<string, string>): void {
    if (this.done) return;
    this.done = true;
    this.nc.publish(this.reply, data, { headers: frameHeaders('response', headers) });
  }
  end(headers?: Record<string, string>): void {
    if (this.done) return;
    this.done = true;
    this.nc.publish(this.reply, undefined, { headers: frameHeaders('end', headers) });
  }
  error(err: unknown, headers?: Record<string, string>): void {
    if (this.done) return;
    this.done = true;
    this.nc.publish(this.reply, encodeJson(GatewayError.from(err).toJSON()), { headers: frameHeaders('error', headers) });
  }
}

export type StreamRequest = { data: Uint8Array; headers: MsgHdrs | undefined; reply: string; msg: Msg };

/**
 * The responder side of the hot path: queue groups named after the service, callback subscriptions (no
 * async iterator per message), errors answered as `error` frames carrying a GatewayError.
 */
export class HotServer {
  private readonly subs: Subscription[] = [];
  constructor(private readonly nc: NatsConnection) {}

  serveRpc<C extends RpcContract>(
    contract: C,
    handler: (input: z.infer<C['request']>, ctx: RpcContext) => Promise<z.input<C['response']>>,
  ): void {
    this.subscribe(contract.subject, contract.service, (msg) => {
      if (!msg.reply) return;
      const writer = new FrameWriter(this.nc, msg.reply);
      const ctx = context(msg.headers);
      if (ctx.deadlineAt !== undefined && ctx.deadlineAt < Date.now()) return; // the caller gave up already
      let input: z.infer<C['request']>;
      try {
        const parsed = contract.request.safeParse(decodeJson(msg.data));
        if (!parsed.success) {
          writer.error(new GatewayError('INVALID_REQUEST', `${contract.subject}: ${parsed.error.issues[0]?.message ?? 'invalid'}`));
          return;
        }
        input = parsed.data as z.infer<C['request']>;
      } catch {
        writer.error(new GatewayError('INVALID_REQUEST', `${contract.subject}: body is not JSON`));
        return;
      }
      handler(input, ctx).then(
        (out) => writer.response(encodeJson(out)),
        (err: unknown) => writer.error(err),
      );
    });
  }

  serveEvent<C extends EventContract>(contract: C, handler: (input: z.infer<C['schema']>) => void | Promise<void>): void {
    const queue = contract.broadcast ? undefined : contract.service;
    this.subscribe(contract.subject, queue, (msg) => {
      let input: z.infer<C['schema']>;
      try {
        const parsed = contract.schema.safeParse(decodeJson(msg.data));
        if (!parsed.success) return;
        input = parsed.data as z.infer<C['schema']>;
      } catch {
        return;
      }
      void Promise.resolve()
        .then(() => handler(input))
        .catch(() => undefined);
    });
  }

  serveStream(contract: Pick<StreamContract, 'subject' | 'service'>, handler: (req: StreamRequest, out: FrameWriter) => Promise<void>): void {
    this.subscribe(contract.subject, contract.service, (msg) => {
      if (!msg.reply) return;
      const out = new FrameWriter(this.nc, msg.reply);
      handler({ data: msg.data, headers: msg.headers, reply: msg.reply, msg }, out).catch((err: unknown) => out.error(err));
    });
  }

  /** Hands a request on to another service with the caller's inbox, so the answer skips this hop. */
  forward(subject: string, req: StreamRequest, extra: Record<string, string>): void {
    const h = natsHeaders();
    if (req.headers) for (const [k, vs] of req.headers) for (const v of vs) h.append(k, v);
    for (const k in extra) h.set(k, extra[k] as string);
    this.nc.publish(subject, req.data, { reply: req.reply, headers: h });
  }

  private subscribe(subject: string, queue: string | undefined, cb: (msg: Msg) => void): void {
    const opts = queue ? { queue, callback: (_e: unknown, m: Msg) => cb(m) } : { callback: (_e: unknown, m: Msg) => cb(m) };
    this.subs.push(this.nc.subscribe(subject, opts));
  }

  async close(): Promise<void> {
    await Promise.all(this.subs.map((s) => s.drain().catch(() => undefined)));
  }
}

function context(h: MsgHdrs | undefined): RpcContext {
  const d = h?.get(HEADERS.deadline);
  return { requestId: h?.get(HEADERS.requestId) || undefined, deadlineAt: d ? Number(d) : undefined };
}
