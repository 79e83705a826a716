export * from './budgets.js';
export * from './periods.js';
export * from './cost.js';
export { ADMIT_STATUS } from './scripts.js';
