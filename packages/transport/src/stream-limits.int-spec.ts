import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DUPLICATE_WINDOW_MS, ensureStream } from './jetstream.js';
import { connectNats } from './nest.js';

/* ensureStream's retention limits against the real NATS + JetStream, on streams of this file's own. */
const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const NS = 1_000_000;
const DAY_MS = 86_400_000;
let nc: NatsConnection;
const streams: string[] = [];

function target() {
  const id = randomBytes(4).toString('hex');
  const t = { stream: `TEST_LIMITS_${id}`, subject: `test.${id}.limits` };
  streams.push(t.stream);
  return t;
}
const config = async (stream: string) => (await (await jetstreamManager(nc)).streams.info(stream)).config;

beforeAll(async () => {
  nc = await connectNats(NATS_URL, 'stream-limits-int-spec');
});
afterAll(async () => {
  const jsm = await jetstreamManager(nc);
  for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
  await nc.drain();
});

describe('ensureStream with retention limits', () => {
  it('creates the stream with the max age and max messages', async () => {
    const t = target();
    await ensureStream(nc, t, { maxAgeMs: 7 * DAY_MS, maxMsgs: 1_000 });
    expect(await config(t.stream)).toMatchObject({
      subjects: [t.subject],
      max_age: 7 * DAY_MS * NS,
      max_msgs: 1_000,
      duplicate_window: DUPLICATE_WINDOW_MS * NS,
    });
  });

  it('updates a stream that exists without limits (or with others), keeping its messages and other settings', async () => {
    const t = target();
    await ensureStream(nc, t); // what a publisher that knows no limits creates
    expect(await config(t.stream)).toMatchObject({ max_age: 0, max_msgs: -1 });
    const js = jetstream(nc);
    for (let i = 0; i < 5; i++) await js.publish(t.subject, new TextEncoder().encode(`m${i}`), { msgID: `id-${i}` });

    await ensureStream(nc, t, { maxAgeMs: 2 * DAY_MS, maxMsgs: 100 });
    expect(await config(t.stream)).toMatchObject({
      subjects: [t.subject],
      max_age: 2 * DAY_MS * NS,
      max_msgs: 100,
      duplicate_window: DUPLICATE_WINDOW_MS * NS,
    });
    expect((await (await jetstreamManager(nc)).streams.info(t.stream)).state.messages).toBe(5);
    // changed limits at the next boot are applied too; without limits the stream is left as it is
    await ensureStream(nc, t, { maxAgeMs: 3 * DAY_MS, maxMsgs: 3 });
    await ensureStream(nc, t);
    expect(await config(t.stream)).toMatchObject({ max_age: 3 * DAY_MS * NS, max_msgs: 3 });
    // the bound holds: the oldest messages went
    const { state } = await (await jetstreamManager(nc)).streams.info(t.stream);
    expect({ messages: state.messages, first: state.first_seq }).toEqual({ messages: 3, first: 3 });
  });
});
