import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { contracts } from '@gw/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DurableBatchConsumer, DurablePublisher } from './jetstream.js';
import { connectNats } from './nest.js';

/* DurablePublisher against the real NATS + JetStream, on a stream and subject of this file's own. */
const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const id = randomBytes(4).toString('hex');
// the usage contract on names of this file's own (the registry's literal types do not allow other names)
const contract = { ...contracts.billingUsage, stream: `TEST_USAGE_${id}`, subject: `test.${id}.evt.usage.v1`, durableName: `test-${id}` } as unknown as typeof contracts.billingUsage;
const event = (requestId: string) => ({
  requestId,
  occurredAt: Date.now(),
  orgId: null,
  teamId: 'team',
  keyId: 'key',
  endUser: null,
  requestedModel: 'm',
  providerId: 'sim',
  model: 'm',
  inputTokens: 1,
  outputTokens: 2,
  cachedInputTokens: 0,
  costNanoUsd: '3',
  latencyMs: 4,
  cacheStatus: 'miss' as const,
  status: 'ok' as const,
  errorCode: null,
  usageEstimated: false,
  stream: false,
  tags: {},
  attempts: 1,
});

let nc: NatsConnection;
beforeAll(async () => {
  nc = await connectNats(NATS_URL, 'jetstream-int-spec');
});
afterAll(async () => {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(contract.stream).catch(() => undefined);
  await nc.drain();
});

describe('DurablePublisher', () => {
  it('creates the stream, stores each event once per message id (a republish is a duplicate, not an error)', async () => {
    const pub = new DurablePublisher(nc);
    await Promise.all(['r1', 'r2', 'r3'].map((r) => pub.publish(contract, event(r), r)));
    await pub.publish(contract, event('r2'), 'r2');
    const info = await (await jetstreamManager(nc)).streams.info(contract.stream);
    expect(info.state.messages).toBe(3);
  });

  it('fails (after its attempts) when no stream takes the subject, instead of hanging', async () => {
    const pub = new DurablePublisher(nc);
    const orphan = { ...contract, subject: `test.${id}.nobody.v1` } as unknown as typeof contracts.billingUsage;
    // the stream exists (so ensureStream is skipped), but it does not hold this subject: NATS has no responder
    await pub.publish(contract, event('r4'), 'r4');
    (pub as unknown as { streams: Set<string> }).streams.add(orphan.stream);
    const t0 = Date.now();
    await expect(pub.publish(orphan, event('r5'), 'r5', 2)).rejects.toThrow(/no JetStream stream takes/);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});

describe('DurableBatchConsumer', () => {
  const until = async (what: string, cond: () => boolean, ms = 10_000) => {
    const t0 = Date.now();
    while (!cond()) {
      if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const ownContract = (name: string) =>
    ({ ...contracts.billingUsage, stream: `TEST_${name}_${id}`, subject: `test.${id}.${name}.v1`, durableName: `test-${name}-${id}` }) as unknown as typeof contracts.billingUsage;
  type Seen = { requestId: string; deliveryCount: number };

  it('with concurrency 2, hands over the next batch while the first is in the handler; each batch is settled by its own outcome', async () => {
    const c = ownContract('conc');
    const pub = new DurablePublisher(nc);
    for (let i = 1; i <= 6; i++) await pub.publish(c, event(`c${i}`), `c${i}`);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const stored: Seen[] = [];
    const consumer = new DurableBatchConsumer(
      nc,
      c,
      async (batch) => {
        const call = ++calls;
        active++;
        maxActive = Math.max(maxActive, active);
        try {
          if (call === 1) {
            await gate;
            throw new Error('the first batch fails');
          }
          stored.push(...batch.map((m) => ({ requestId: m.value.requestId, deliveryCount: m.raw.info.deliveryCount })));
        } finally {
          active--;
        }
      },
      { batchSize: 3, lingerMs: 20, concurrency: 2, nakDelayMs: 100, onError: () => undefined },
    );
    await consumer.start();
    try {
      // the second batch is stored (and acked) while the first is still held in the handler
      await until('the second batch', () => stored.length === 3);
      expect(calls).toBe(2);
      expect(active).toBe(1);
      release();
      // the first batch failed: only its messages come back, and are stored on their second delivery
      await until('the redelivered first batch', () => stored.length === 6);
      const first = stored.slice(3);
      expect(first.every((s) => s.deliveryCount === 2)).toBe(true);
      expect(stored.slice(0, 3).every((s) => s.deliveryCount === 1)).toBe(true);
      expect(stored.map((s) => s.requestId).sort()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
      expect(maxActive).toBe(2);
    } finally {
      await consumer.stop();
      await (await jetstreamManager(nc)).streams.delete(c.stream).catch(() => undefined);
    }
    // nothing left unacked
    await new Promise((r) => setTimeout(r, 300));
    expect(stored).toHaveLength(6);
  });

  it('never has more than `concurrency` batches in the handler, and stop() waits for the ones in it', async () => {
    const c = ownContract('cap');
    const pub = new DurablePublisher(nc);
    await Promise.all(Array.from({ length: 40 }, (_, i) => pub.publish(c, event(`k${i}`), `k${i}`)));
    for (const concurrency of [1, 2]) {
      let active = 0;
      let maxActive = 0;
      const done: string[] = [];
      const durable = { ...c, durableName: `${c.durableName}-${concurrency}` } as unknown as typeof c;
      const consumer = new DurableBatchConsumer(
        nc,
        durable,
        async (batch) => {
          active++;
          maxActive = Math.max(maxActive, active);
          // hold the batch until the slots are full (or a while): a third one must not come in meanwhile
          const t0 = Date.now();
          while (active < concurrency && Date.now() - t0 < 300) await new Promise((r) => setTimeout(r, 5));
          await new Promise((r) => setTimeout(r, 20));
          done.push(...batch.map((m) => m.value.requestId));
          active--;
        },
        { batchSize: 4, lingerMs: 10, concurrency },
      );
      await consumer.start();
      await until('a few batches', () => done.length >= 8);
      await consumer.stop();
      expect(active, `concurrency ${concurrency}`).toBe(0); // stop() returned after the handlers in flight finished
      expect(maxActive, `concurrency ${concurrency}`).toBe(concurrency);
      expect(new Set(done).size, `concurrency ${concurrency}`).toBe(done.length);
    }
    await (await jetstreamManager(nc)).streams.delete(c.stream).catch(() => undefined);
  });
});
