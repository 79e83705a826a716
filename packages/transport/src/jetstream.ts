import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JsMsg,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DurableContract } from '@gw/contracts';
import type { z } from 'zod';
import { decodeJson, encodeJson } from './frames.js';

const NANOS_PER_MS = 1_000_000;

/** Creates (or leaves as it is) the JetStream stream that stores a durable contract's subject. */
export async function ensureStream(nc: NatsConnection, contract: DurableContract): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = {
    name: contract.stream,
    subjects: [contract.subject],
    duplicate_window: 10 * 60_000 * NANOS_PER_MS,
  };
  try {
    await jsm.streams.info(contract.stream);
  } catch {
    try {
      await jsm.streams.add(config);
    } catch (err) {
      // another replica created it between our info and add
      await jsm.streams.info(contract.stream).catch(() => {
        throw err;
      });
    }
  }
}

/**
 * Publishes durable facts. The message id is the idempotency key (JetStream drops a duplicate within the
 * duplicate window; the consumer dedupes again by the same key). A failed publish is retried with backoff,
 * so a short NATS outage does not lose a usage record.
 */
export class DurablePublisher {
  private readonly js: JetStreamClient;
  private readonly streams = new Set<string>();
  constructor(private readonly nc: NatsConnection) {
    this.js = jetstream(nc);
  }

  async publish<C extends DurableContract>(contract: C, payload: z.input<C['schema']>, msgID: string, attempts = 8): Promise<void> {
    if (!this.streams.has(contract.stream)) {
      await ensureStream(this.nc, contract);
      this.streams.add(contract.stream);
    }
    const data = encodeJson(payload);
    let delayMs = 50;
    for (let i = 1; ; i++) {
      try {
        await this.js.publish(contract.subject, data, { msgID, timeout: 5_000 });
        return;
      } catch (err) {
        if (i >= attempts) throw err;
        await new Promise((r) => setTimeout(r, delayMs));
        delayMs = Math.min(delayMs * 2, 2_000);
      }
    }
  }
}

export type DurableMessage<T> = { value: T; raw: JsMsg };

export type BatchHandler<T> = (batch: Array<DurableMessage<T>>) => Promise<void>;

/**
 * A durable pull consumer that hands over messages in batches (up to `batchSize`, or whatever arrived within
 * `lingerMs`). The handler's success acks the batch; a failure naks it with a delay, so nothing is lost when the
 * database is down: JetStream redelivers. A message that does not parse is acked and reported (poison).
 */
export class DurableBatchConsumer<C extends DurableContract> {
  private messages: ConsumerMessages | null = null;
  private buffer: JsMsg[] = [];
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly contract: C,
    private readonly handler: BatchHandler<z.infer<C['schema']>>,
    private readonly opts: { batchSize: number; lingerMs: number; onPoison?: (raw: JsMsg, err: unknown) => void; onError?: (err: unknown) => void },
  ) {}

  async start(): Promise<void> {
    await ensureStream(this.nc, this.contract);
    const jsm = await jetstreamManager(this.nc);
    await jsm.consumers
      .info(this.contract.stream, this.contract.durableName)
      .catch(() =>
        jsm.consumers.add(this.contract.stream, {
          durable_name: this.contract.durableName,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          ack_wait: 30_000 * NANOS_PER_MS,
          max_ack_pending: 20_000,
        }),
      );
    const consumer = await jetstream(this.nc).consumers.get(this.contract.stream, this.contract.durableName);
    this.messages = await consumer.consume({ max_messages: Math.max(this.opts.batchSize * 2, 100) });
    void this.loop(this.messages);
  }

  private async loop(messages: ConsumerMessages): Promise<void> {
    for await (const m of messages) {
      this.buffer.push(m);
      if (this.buffer.length >= this.opts.batchSize) await this.flush();
      else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.opts.lingerMs);
    }
  }

  private flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const raw = this.buffer;
    this.buffer = [];
    if (raw.length === 0) return this.chain;
    this.chain = this.chain.then(() => this.process(raw));
    return this.chain;
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
      for (const b of batch) b.raw.nak(1_000);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.flush();
    await this.messages?.close();
  }

  get isStopped(): boolean {
    return this.stopped;
  }
}

export { encodeJson };
