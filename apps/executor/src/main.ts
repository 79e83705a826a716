import 'reflect-metadata';
import { bootstrapMicroservice } from '@gw/transport';
import { AppModule } from './app.module.js';
import { loadEnv } from './config/env.js';

const env = loadEnv();
await bootstrapMicroservice(AppModule.forRoot(env), { service: 'executor', natsUrl: env.NATS_URL, logLevel: env.LOG_LEVEL });
