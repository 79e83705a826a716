import 'reflect-metadata';
import { startBilling } from './app.js';
import { loadEnv } from './config/env.js';

const env = loadEnv();
await startBilling(env);
