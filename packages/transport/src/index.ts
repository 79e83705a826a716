export * from './frames.js';
export * from './hot-client.js';
export * from './hot-server.js';
export * from './jetstream.js';
export * from './nest.js';
export * from './bootstrap.js';
