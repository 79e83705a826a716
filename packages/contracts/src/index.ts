export * from './errors.js';
export * from './config.js';
export * from './chat.js';
export * from './control.js';
export * from './registry.js';
export * from './money.js';
export * from './anthropic.js';
export * from './embeddings.js';
