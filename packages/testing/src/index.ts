export * from './simulator/index.js';
export * from './stack/index.js';
