#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startSimulator } from './server.js';

/** `node packages/testing/dist/simulator/cli.js --port 8099 --host 127.0.0.1`: the simulator as a process. */
const { values } = parseArgs({
  options: { port: { type: 'string', default: '8099' }, host: { type: 'string', default: '127.0.0.1' } },
  strict: true,
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`simulator: --port must be a port number, got ${values.port}\n`);
  process.exit(2);
}

const sim = await startSimulator({ port, host: values.host });
process.stdout.write(`${JSON.stringify({ msg: 'provider simulator listening', url: sim.url, openaiBaseUrl: `${sim.url}/v1` })}\n`);

let closing = false;
const stop = (): void => {
  if (closing) return;
  closing = true;
  void sim.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
