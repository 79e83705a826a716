import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { contracts } from '@gw/contracts';
import { ContractBootCheck, ControlClient, nestNatsOptions } from '@gw/transport';
import { AppModule } from './app.module.js';
import { loadEnv } from './config/env.js';
import { ChatExecutor } from './chat/chat.executor.js';

describe('executor app (real NATS)', () => {
  it('boots: one handler per executor contract, answers executorPing, shuts down cleanly', async () => {
    const env = loadEnv({ NATS_URL: 'nats://127.0.0.1:4222', LOG_LEVEL: 'error' });
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(AppModule.forRoot(env), {
      ...nestNatsOptions({ service: 'executor', url: env.NATS_URL }),
      logger: ['error'],
    });
    await app.listen();
    try {
      const counts = app.get(ContractBootCheck).handlerCounts();
      expect(counts.get('executorChat')).toBe(1);
      expect(counts.get('executorCancel')).toBe(1);
      expect(counts.get('executorPing')).toBe(1);
      expect(app.get(ChatExecutor).inFlight).toBe(0);
      const pong = await app.get(ControlClient).send(contracts.executorPing, {}, 5_000);
      expect(pong.service).toBe('executor');
    } finally {
      await app.close();
    }
  });
});
