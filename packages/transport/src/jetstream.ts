import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JsMsg,
  type StreamInfo,
} from '@nats-io/jetstream';
import { createInbox, headers as natsHeaders, type Msg, type NatsConnection } from '@nats-io/transport-node';
import type { DurableContract } from '@gw/contracts';
import type { z } from 'zod';
import { decodeJson, encodeJson } from './frames.js';

const NANOS_PER_MS = 1_000_000;

/** Where a durable contract lives in JetStream; tests override it with unique names so they do not share state. */
export type DurableTarget = { stream: string; subject: string; durableName: string };

/** The duplicate window of every durable stream: a message id published again within it is stored once. */
export const DUPLICATE_WINDOW_MS = 10 * 60_000;

/** Retention limits of a stream (limits retention, the oldest messages go first); absent = unlimited. */
export type StreamLimits = { maxAgeMs: number; maxMsgs: number };

/**
 * Creates the JetStream stream that stores a durable contract's subject, or leaves it as it is. With `limits`, the
 * stream is created with them, and an existing stream whose max age or max messages differ is updated to them (its
 * other settings are kept), so a retention change applies at the next boot of the service that owns the stream.
 */
export async function ensureStream(
  nc: NatsConnection,
  contract: Pick<DurableTarget, 'stream' | 'subject'>,
  limits?: StreamLimits,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const bounds = limits ? { max_age: limits.maxAgeMs * NANOS_PER_MS, max_msgs: limits.maxMsgs } : {};
  const config = {
    name: contract.stream,
    subjects: [contract.subject],
    duplicate_window: DUPLICATE_WINDOW_MS * NANOS_PER_MS,
    ...bounds,
  };
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(contract.stream);
  } catch {
    try {
      await jsm.streams.add(config);
      return;
    } catch (err) {
      // another replica created it between our info and add
      info = await jsm.streams.info(contract.stream).catch(() => {
        throw err;
      });
    }
  }
  if (limits && (info.config.max_age !== bounds.max_age || info.config.max_msgs !== bounds.max_msgs)) {
    await jsm.streams.update(contract.stream, { ...info.config, ...bounds });
  }
}

/**
 * The stream (ensureStream, with `limits` if given) and a durable pull consumer on it that acks explicitly and
 * starts from the first message; an existing consumer is kept as it is. Returns the consumer to `consume` from.
 */
export async function ensureDurableConsumer(
  nc: NatsConnection,
  target: DurableTarget,
  opts: { ackWaitMs: number; maxAckPending?: number; streamLimits?: StreamLimits },
) {
  const { stream, durableName, subject } = target;
  await ensureStream(nc, target, opts.streamLimits);
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.info(stream, durableName).catch(() =>
    jsm.consumers.add(stream, {
      durable_name: durableName,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subject,
      ack_wait: opts.ackWaitMs * NANOS_PER_MS,
      ...(opts.maxAckPending !== undefined && { max_ack_pending: opts.maxAckPending }),
    }),
  );
  return jetstream(nc).consumers.get(stream, durableName);
}

/** How long one publish waits for JetStream's acknowledgement before it counts as failed (and is retried). */
const PUBLISH_ACK_TIMEOUT_MS = 5_000;

/**
 * Publishes durable facts. The message id is the idempotency key (JetStream drops a duplicate within the
 * duplicate window; the consumer dedupes again by the same key). A failed publish is retried with backoff,
 * so a short NATS outage does not lose a usage record.
 *
 * The publish speaks JetStream's wire protocol itself (a PUB with a `Nats-Msg-Id` header and a reply subject;
 * the server answers `{"stream","seq"}` or `{"error"}`, or a 503 status when no stream takes the subject) over
 * one wildcard inbox subscription, as HotClient does. `@nats-io/jetstream`'s `publish` goes through
 * `nc.request`, whose RequestOne builds a `RequestError` with a stack trace on every successful reply: that was
 * the executor's heaviest single function per request (ADR 0012).
 */
export class DurablePublisher {
  private readonly streams = new Set<string>();
  private readonly prefix = createInbox();
  private readonly acks = new Map<string, (reply: Msg | Error) => void>();
  private subscribed = false;
  private seq = 0;
  private queue: Array<{ subject: string; data: Uint8Array; msgID: string; inbox: string }> = [];
  private flushScheduled = false;
  constructor(private readonly nc: NatsConnection) {}

  async publish<C extends DurableContract>(contract: C, payload: z.input<C['schema']>, msgID: string, attempts = 8): Promise<void> {
    if (!this.streams.has(contract.stream)) {
      await ensureStream(this.nc, contract);
      this.streams.add(contract.stream);
    }
    const data = encodeJson(payload);
    let delayMs = 50;
    for (let i = 1; ; i++) {
      try {
        await this.publishOnce(contract.subject, data, msgID, PUBLISH_ACK_TIMEOUT_MS);
        return;
      } catch (err) {
        if (i >= attempts) throw err;
        await new Promise((r) => setTimeout(r, delayMs));
        delayMs = Math.min(delayMs * 2, 2_000);
      }
    }
  }

  /** One publish and its acknowledgement: resolves when JetStream stored it (or dropped it as a duplicate). */
  private publishOnce(subject: string, data: Uint8Array, msgID: string, timeoutMs: number): Promise<void> {
    if (!this.subscribed) {
      this.nc.subscribe(`${this.prefix}.*`, { callback: (_err, msg) => this.acks.get(msg.subject)?.(msg) });
      this.subscribed = true;
    }
    this.seq = (this.seq + 1) | 0;
    const inbox = `${this.prefix}.${this.seq.toString(36)}`;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.acks.delete(inbox);
        reject(new Error(`no JetStream acknowledgement for ${subject} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.acks.set(inbox, (reply) => {
        clearTimeout(timer);
        this.acks.delete(inbox);
        const err = reply instanceof Error ? reply : ackError(subject, reply);
        if (err) reject(err);
        else resolve();
      });
      this.queue.push({ subject, data, msgID, inbox });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flushQueue());
      }
    });
  }

  /**
   * The publishes of one event-loop turn go out together, after the replies that turn produced: NATS writes
   * them to the socket in one write instead of one per request (under load, many requests finish per turn).
   */
  private flushQueue(): void {
    this.flushScheduled = false;
    const queue = this.queue;
    this.queue = [];
    for (const { subject, data, msgID, inbox } of queue) {
      const h = natsHeaders();
      h.set(MSG_ID_HEADER, msgID);
      try {
        this.nc.publish(subject, data, { reply: inbox, headers: h });
      } catch (err) {
        this.acks.get(inbox)?.(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }
}

const MSG_ID_HEADER = 'Nats-Msg-Id';

/** The failure a JetStream publish reply carries, or null for an acknowledgement (stored or duplicate). */
export function ackError(subject: string, reply: Pick<Msg, 'data' | 'headers'>): Error | null {
  if (reply.headers?.code === 503) return new Error(`no JetStream stream takes ${subject} (no responders)`);
  let ack: unknown;
  try {
    ack = decodeJson(reply.data);
  } catch {
    return new Error(`malformed JetStream acknowledgement for ${subject}`);
  }
  if (typeof ack !== 'object' || ack === null) return new Error(`malformed JetStream acknowledgement for ${subject}`);
  const { error, stream } = ack as { error?: { description?: unknown }; stream?: unknown };
  if (error) return new Error(`JetStream refused the publish to ${subject}: ${typeof error.description === 'string' ? error.description : 'error'}`);
  if (typeof stream !== 'string' || stream === '') return new Error(`malformed JetStream acknowledgement for ${subject}`);
  return null;
}

export type DurableMessage<T> = { value: T; raw: JsMsg };

export type BatchHandler<T> = (batch: Array<DurableMessage<T>>) => Promise<void>;

export type DurableBatchConsumerOptions = {
  batchSize: number;
  lingerMs: number;
  /**
   * how many batches may be in the handler at once (default 1). With 2, the next batch is parsed and handed over
   * while the previous one is still in the database; each batch is acked (or naked) after its own handler only.
   */
  concurrency?: number;
  onPoison?: (raw: JsMsg, err: unknown) => void;
  onError?: (err: unknown) => void;
  /** override the contract's stream / subject / durable name (tests use unique ones) */
  target?: Partial<DurableTarget>;
  /** how long a delivered, unacked message waits before redelivery (default 30 s) */
  ackWaitMs?: number;
  /** first nak delay after a failed batch; doubles with each redelivery up to maxNakDelayMs (default 1 s / 30 s) */
  nakDelayMs?: number;
  maxNakDelayMs?: number;
};

/** The nak delay for a message delivered `deliveryCount` times: exponential backoff, capped. */
export function nakDelayFor(deliveryCount: number, baseMs: number, maxMs: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, Math.min(deliveryCount - 1, 30)), maxMs);
}

/**
 * A durable pull consumer that hands over messages in batches (up to `batchSize`, or whatever arrived within
 * `lingerMs`). The handler's success acks the batch; a failure naks it with a growing delay, so nothing is lost
 * when the database is down: JetStream redelivers. A message that does not parse is acked and reported (poison).
 * Up to `concurrency` batches are in the handler at once; the loop stops taking messages while all slots are busy
 * (the client library buffers what was already pulled), and a batch's messages are settled by its own outcome only.
 */
export class DurableBatchConsumer<C extends DurableContract> {
  private messages: ConsumerMessages | null = null;
  private buffer: JsMsg[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private looping: Promise<void> = Promise.resolve();
  private readonly target: DurableTarget;
  private readonly concurrency: number;

  constructor(
    private readonly nc: NatsConnection,
    private readonly contract: C,
    private readonly handler: BatchHandler<z.infer<C['schema']>>,
    private readonly opts: DurableBatchConsumerOptions,
  ) {
    this.target = { stream: contract.stream, subject: contract.subject, durableName: contract.durableName, ...opts.target };
    this.concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1));
  }

  async start(): Promise<void> {
    const consumer = await ensureDurableConsumer(this.nc, this.target, { ackWaitMs: this.opts.ackWaitMs ?? 30_000, maxAckPending: 20_000 });
    // room for the batches in the handler plus the one being gathered
    this.messages = await consumer.consume({ max_messages: Math.max(this.opts.batchSize * (this.concurrency + 1), 100) });
    this.looping = this.loop(this.messages).catch((err: unknown) => this.opts.onError?.(err));
  }

  private async loop(messages: ConsumerMessages): Promise<void> {
    for await (const m of messages) {
      this.buffer.push(m);
      if (this.buffer.length >= this.opts.batchSize) await this.flush();
      else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.opts.lingerMs);
    }
  }

  /** Hands the buffer to the handler once a slot is free; resolves when it is handed over (not when it is done). */
  private async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.buffer.length === 0) return;
    while (this.inflight.size >= this.concurrency) await Promise.race(this.inflight);
    // the buffer is taken after the wait: what arrived meanwhile (up to batchSize) goes in this batch
    const raw = this.buffer.splice(0, this.opts.batchSize);
    if (raw.length === 0) return;
    // process settles its own messages; anything it throws beyond that is reported (they are redelivered after ack_wait)
    const p: Promise<void> = this.process(raw)
      .catch((err: unknown) => this.opts.onError?.(err))
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
    // messages that arrived while waiting for the slot beyond this batch: a full batch or the linger takes them
    if (this.buffer.length > 0 && !this.timer && !this.stopped) this.timer = setTimeout(() => void this.flush(), this.opts.lingerMs);
  }

  private async process(raw: JsMsg[]): Promise<void> {
    const batch: Array<DurableMessage<z.infer<C['schema']>>> = [];
    for (const m of raw) {
      try {
        batch.push({ value: this.contract.schema.parse(decodeJson(m.data)) as z.infer<C['schema']>, raw: m });
      } catch (err) {
        this.opts.onPoison?.(m, err);
        m.ack();
      }
    }
    if (batch.length === 0) return;
    try {
      await this.handler(batch);
      for (const b of batch) b.raw.ack();
    } catch (err) {
      this.opts.onError?.(err);
      const base = this.opts.nakDelayMs ?? 1_000;
      const max = this.opts.maxNakDelayMs ?? 30_000;
      for (const b of batch) b.raw.nak(nakDelayFor(b.raw.info.deliveryCount, base, max));
    }
  }

  /** Stops pulling, hands the messages already received to the handler, and waits until they are all settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close();
    await this.looping;
    while (this.buffer.length > 0) await this.flush();
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    await Promise.all(this.inflight);
  }

  get isStopped(): boolean {
    return this.stopped;
  }
}

export { encodeJson };
