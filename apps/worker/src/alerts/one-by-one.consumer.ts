import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DurableContract } from '@gw/contracts';
import { decodeJson, ensureDurableConsumer, nakDelayFor, type DurableTarget, type StreamLimits } from '@gw/transport';
import type { z } from 'zod';

export type OneByOneOptions = {
  /** override the contract's stream / subject / durable name (tests use unique ones) */
  target?: Partial<DurableTarget>;
  /** retention of the stream, applied at start (created with it, or updated to it) */
  streamLimits?: StreamLimits;
  /** how long a delivered, unacked message waits before redelivery (default 60 s; a handler must finish well within it) */
  ackWaitMs?: number;
  /** nak delay after the first failure; doubles with each redelivery up to maxNakDelayMs */
  nakDelayMs: number;
  maxNakDelayMs: number;
  onPoison: (raw: JsMsg, err: unknown) => void;
  onRetry: (err: unknown, deliveryCount: number, delayMs: number) => void;
  /** the pull loop itself failed (not a message): nothing is consumed until a restart */
  onError: (err: unknown) => void;
};

/**
 * A durable pull consumer that hands over one message at a time and settles each on its own: the handler's
 * success acks it, a failure naks only it with a growing delay (so one failing delivery never resends another),
 * a message that does not parse is acked and reported (poison). It pulls one message ahead at most, so a message
 * never waits in this process long enough for its ack wait to run out (no second, concurrent delivery of it).
 * Unlike DurableBatchConsumer (hundreds of messages per database transaction), this is for slow side effects
 * that must not be batched, such as webhook calls.
 */
export class OneByOneConsumer<C extends DurableContract> {
  private messages: ConsumerMessages | null = null;
  private looping: Promise<void> = Promise.resolve();
  private stopping = false;
  private readonly target: DurableTarget;

  constructor(
    private readonly nc: NatsConnection,
    private readonly contract: C,
    private readonly handler: (value: z.infer<C['schema']>) => Promise<void>,
    private readonly opts: OneByOneOptions,
  ) {
    this.target = { stream: contract.stream, subject: contract.subject, durableName: contract.durableName, ...opts.target };
  }

  async start(): Promise<void> {
    // no max_deliver: a message is retried until it is delivered
    const consumer = await ensureDurableConsumer(this.nc, this.target, {
      ackWaitMs: this.opts.ackWaitMs ?? 60_000,
      ...(this.opts.streamLimits && { streamLimits: this.opts.streamLimits }),
    });
    this.messages = await consumer.consume({ max_messages: 1 });
    this.looping = this.loop(this.messages).catch((err: unknown) => this.opts.onError(err));
  }

  private async loop(messages: ConsumerMessages): Promise<void> {
    for await (const m of messages) {
      if (this.stopping) m.nak(); // pulled ahead while stopping: back to JetStream at once, for another replica
      else await this.process(m);
    }
  }

  private async process(m: JsMsg): Promise<void> {
    let value: z.infer<C['schema']>;
    try {
      value = this.contract.schema.parse(decodeJson(m.data)) as z.infer<C['schema']>;
    } catch (err) {
      this.opts.onPoison(m, err);
      m.ack();
      return;
    }
    try {
      await this.handler(value);
      m.ack();
    } catch (err) {
      const delayMs = nakDelayFor(m.info.deliveryCount, this.opts.nakDelayMs, this.opts.maxNakDelayMs);
      this.opts.onRetry(err, m.info.deliveryCount, delayMs);
      m.nak(delayMs);
    }
  }

  /** Stops pulling and waits for the message being handled (a message pulled ahead is handed back). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.messages?.close();
    await this.looping;
  }
}
