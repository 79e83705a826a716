import 'reflect-metadata';
import type { NatsConnection } from '@nats-io/transport-node';
import { validateConfig } from '@gw/config';
import { contracts, HEADERS, UsageEvent, type GatewayConfig, type RequestMetaInput, type StreamContract } from '@gw/contracts';
import { startSimulator, type Simulator } from '@gw/testing';
import { connectNats, decodeJson, DurablePublisher, HotClient, HotServer, type Frame, type FrameWriter, type StreamRequest } from '@gw/transport';
import { UpstreamClient } from '../upstream/upstream.client.js';
import { UsageRecorder } from '../usage/usage.recorder.js';

/*
 * Test support for the executor's integration tests (excluded from the build): the provider simulator in-process,
 * the real NATS (127.0.0.1:4222), the handler under test served on a subject unique to the run (so no other
 * executor replica on the same NATS takes our requests), and the run's usage events read from the real usage subject.
 */

const NATS_URL = 'nats://127.0.0.1:4222';

export type TimedFrame = Frame & { at: number };

export type SendOptions = {
  /** gw-meta without the fields the stack fills in (request id, received now, deadline in 30 s) */
  meta: Omit<RequestMetaInput, 'requestId' | 'receivedAt' | 'deadlineAt'>;
  body: unknown;
  /** the gw-plan header as it goes */
  plan: string;
  onFrame?: (f: TimedFrame, requestId: string) => void;
};

export type ExecutorStack = {
  /** the prefix of every request id of the run */
  run: string;
  sim: Simulator;
  client: HotClient;
  upstream: UpstreamClient;
  /** the run's usage events, as they arrive */
  usage: UsageEvent[];
  /** One request to the handler under test: its frames, each with the time it came, and how long it all took. */
  send(o: SendOptions): Promise<{ id: string; frames: TimedFrame[]; ms: number }>;
  /** The usage events of a request, after a pause long enough for a duplicate to show up. */
  usageOf(id: string, settleMs?: number): Promise<UsageEvent[]>;
  close(): Promise<void>;
};

export type StackDeps = { config: GatewayConfig; upstream: UpstreamClient; recorder: UsageRecorder; server: HotServer };

export async function startExecutorStack(o: {
  /** the run's name: request ids are `<name>-<pid>-<time>-<n>` */
  name: string;
  /** the handler's subject is `test.<run>.executor.<subject>` */
  subject: 'chat' | 'embeddings';
  /** the config's providers, given the simulator's URL */
  providers: (simUrl: string) => unknown[];
  /** the environment the config is interpolated with */
  env?: Record<string, string>;
  /** keep-alive connections per upstream origin */
  connections: number;
  /** builds the handler under test (and may serve more on the server) */
  serve: (deps: StackDeps) => (req: StreamRequest, out: FrameWriter) => Promise<void>;
}): Promise<ExecutorStack> {
  const run = `${o.name}-${process.pid}-${Date.now().toString(36)}`;
  // a private subject for this run: the contract registry's subjects are literal types, so the test subject is cast
  const subject = { subject: `test.${run}.executor.${o.subject}`, service: 'executor' } as unknown as Pick<StreamContract, 'subject' | 'service'>;
  const usage: UsageEvent[] = [];
  const sim = await startSimulator({ port: 0 });
  const nc: NatsConnection = await connectNats(NATS_URL, `${o.name}-${run}`);
  const config = validateConfig({ providers: o.providers(sim.url) }, o.env ?? {});
  const upstream = new UpstreamClient(o.connections);
  const recorder = new UsageRecorder(nc, new DurablePublisher(nc));
  await recorder.ensureStream();
  const server = new HotServer(nc);
  server.serveStream(subject, o.serve({ config, upstream, recorder, server }));
  const client = new HotClient(nc);
  nc.subscribe(contracts.billingUsage.subject, {
    callback: (_e, m) => {
      const parsed = UsageEvent.safeParse(decodeJson(m.data));
      if (parsed.success && parsed.data.requestId.startsWith(run)) usage.push(parsed.data);
    },
  });
  await nc.flush();
  let seq = 0;

  return {
    run,
    sim,
    client,
    upstream,
    usage,
    async send({ meta, body, plan, onFrame }) {
      const id = `${run}-${++seq}`;
      const now = Date.now();
      const full: RequestMetaInput = { requestId: id, ...meta, deadlineAt: now + 30_000, receivedAt: now };
      const frames: TimedFrame[] = [];
      const fs = client.open(subject, new TextEncoder().encode(JSON.stringify(body)), {
        firstFrameTimeoutMs: 20_000,
        idleTimeoutMs: 20_000,
        headers: { [HEADERS.requestId]: id, [HEADERS.meta]: JSON.stringify(full), [HEADERS.plan]: plan },
      });
      for await (const f of fs) {
        const t = { ...f, at: Date.now() };
        frames.push(t);
        onFrame?.(t, id);
      }
      return { id, frames, ms: Date.now() - now };
    },
    async usageOf(id, settleMs = 300) {
      await waitFor(() => usage.some((u) => u.requestId === id), 10_000);
      await new Promise((r) => setTimeout(r, settleMs));
      return usage.filter((u) => u.requestId === id);
    },
    async close() {
      await server.close();
      await upstream.close();
      await nc.drain();
      await sim.close();
    },
  };
}

export async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}
