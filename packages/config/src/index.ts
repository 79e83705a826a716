export * from './load.js';
export * from './watch.js';
