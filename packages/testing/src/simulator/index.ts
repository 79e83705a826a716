export { startSimulator } from './server.js';
export type { AbortRecord, Fault, FaultKind, FaultRule, ReceivedRequest, Simulator, SimulatorOptions, SimulatorStats } from './types.js';
export { SimulatorControl } from './control-client.js';
export { BEDROCK_TEST_CREDENTIALS } from './bedrock-wire.js';
