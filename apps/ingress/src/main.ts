import 'reflect-metadata';
import { createIngressApp } from './app.js';
import { loadEnv } from './config/env.js';

const env = loadEnv();
const app = await createIngressApp(env);
await app.listen(env.PORT, env.HOST);
