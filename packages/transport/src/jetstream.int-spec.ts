import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { contracts } from '@gw/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DurablePublisher } from './jetstream.js';
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
