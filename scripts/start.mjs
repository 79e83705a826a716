#!/usr/bin/env node
// node scripts/start.mjs [--only router,ingress,...]
// Starts the gateway's services (built: apps/<s>/dist/main.js) and, when the built-in config needs it, the
// provider simulator; prefixes their output with their names; restarts a crashed one with backoff (and gives
// up, saying so, on one that keeps failing to boot); Ctrl-C or SIGTERM stops them all. Normally run by
// `bin/gateway start`, which builds and starts Postgres/Redis/NATS first.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  DEFAULT_RESTART_POLICY,
  DEFAULT_SIMULATOR_URL,
  SERVICES,
  afterCrash,
  describeExit,
  lineSplitter,
  newMasterKey,
  prefixLine,
  serviceEnv,
  simulatorDecision,
} from './lib/launcher.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUN = path.join(ROOT, '.run');
const READY_TIMEOUT_MS = Number(process.env['GW_READY_TIMEOUT_MS'] ?? 90_000);
const STOP_GRACE_MS = 10_000;

const { values: opts } = parseArgs({
  options: { only: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  strict: true,
});
if (opts.help) {
  process.stdout.write(
    'usage: node scripts/start.mjs [--only <service,...>]\n' +
      `services: ${SERVICES.join(' ')}\n` +
      'env: NATS_URL DATABASE_URL REDIS_URL REDIS_PREFIX PORT HOST BILLING_PORT GATEWAY_MASTER_KEY GATEWAY_CONFIG\n' +
      '     SIMULATOR_URL LOG_LEVEL; GW_SIMULATOR=1|0 forces the provider simulator on or off\n',
  );
  process.exit(0);
}
let wanted = [...SERVICES];
if (opts.only) {
  const names = opts.only
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !SERVICES.includes(/** @type {never} */ (n)));
  if (unknown.length) fail(`unknown service(s): ${unknown.join(', ')} (known: ${SERVICES.join(' ')})`);
  wanted = SERVICES.filter((s) => names.includes(s));
}

const tty = process.stdout.isTTY && !process.env['NO_COLOR'];
const COLORS = [36, 33, 35, 32, 34, 91, 96, 93];
const paint = (code, s) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const say = (msg) => process.stdout.write(`${paint(1, '[gateway]')} ${msg}\n`);
const warn = (msg) => process.stderr.write(`${paint(31, '[gateway]')} ${msg}\n`);
function fail(msg) {
  process.stderr.write(`[gateway] error: ${msg}\n`);
  process.exit(1);
}

// ---- environment --------------------------------------------------------------------------------------

mkdirSync(RUN, { recursive: true });
let masterKey = process.env['GATEWAY_MASTER_KEY'];
let masterKeySource = 'GATEWAY_MASTER_KEY';
const keyFile = path.join(RUN, 'master-key');
if (!masterKey) {
  if (existsSync(keyFile)) {
    masterKey = readFileSync(keyFile, 'utf8').trim();
    masterKeySource = '.run/master-key';
  }
  if (!masterKey) {
    masterKey = newMasterKey();
    writeFileSync(keyFile, `${masterKey}\n`, { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    masterKeySource = 'generated now, kept in .run/master-key';
  }
}

let configText;
if (process.env['GATEWAY_CONFIG']) {
  try {
    configText = readFileSync(process.env['GATEWAY_CONFIG'], 'utf8');
  } catch (err) {
    fail(
      `GATEWAY_CONFIG=${process.env['GATEWAY_CONFIG']}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
const simulator = simulatorDecision(process.env, configText);
const env = serviceEnv(process.env, { masterKey });
const port = Number(env['PORT']);
const billingPort = Number(env['BILLING_PORT']);

// ---- supervision --------------------------------------------------------------------------------------

/**
 * @typedef {{ name: string, args: string[], color: number, child?: import('node:child_process').ChildProcess,
 *   startedAt: number, restart: { crashes: number, bootFailures: number }, timer?: NodeJS.Timeout,
 *   status: 'running' | 'waiting' | 'gave-up' | 'stopped', tail: string[] }} Proc
 */
/** @type {Map<string, Proc>} */
const procs = new Map();
const width = Math.max(...[...SERVICES, 'simulator'].map((s) => s.length));
let stopping = false;

/** @param {Proc} p */
function launch(p) {
  p.startedAt = Date.now();
  p.tail = [];
  p.status = 'running';
  const child = spawn(process.execPath, p.args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  p.child = child;
  const out = (stream) => (line) => {
    p.tail.push(line);
    if (p.tail.length > 40) p.tail.shift();
    stream.write(
      `${tty ? `${paint(p.color, `[${p.name.padEnd(width)}]`)} ${line}` : prefixLine(p.name, width, line)}\n`,
    );
  };
  const so = lineSplitter(out(process.stdout));
  const se = lineSplitter(out(process.stderr));
  child.stdout.on('data', (b) => so.push(b));
  child.stderr.on('data', (b) => se.push(b));
  child.on('error', (err) => warn(`${p.name}: cannot start: ${err.message}`));
  child.on('exit', (code, signal) => {
    so.flush();
    se.flush();
    p.child = undefined;
    if (stopping) {
      p.status = 'stopped';
      return;
    }
    const uptime = Date.now() - p.startedAt;
    const next = afterCrash(p.restart, uptime, DEFAULT_RESTART_POLICY);
    p.restart = next.state;
    const how = `${describeExit(code, signal)} after ${(uptime / 1000).toFixed(1)}s`;
    if (next.action === 'give-up') {
      p.status = 'gave-up';
      warn(
        `${p.name} FAILED TO BOOT ${next.state.bootFailures} times in a row (last: ${how}); not restarting it.\n` +
          `  last output of ${p.name}:\n${p.tail
            .slice(-15)
            .map((l) => `    ${l}`)
            .join('\n')}`,
      );
      checkAllDown();
      return;
    }
    p.status = 'waiting';
    const what = next.duringBoot ? 'failed to boot' : 'crashed';
    warn(
      `${p.name} ${what} (${how}); restarting in ${(next.delayMs / 1000).toFixed(1)}s (attempt ${next.state.crashes + 1})`,
    );
    p.timer = setTimeout(() => {
      p.timer = undefined;
      if (!stopping) launch(p);
    }, next.delayMs);
  });
}

function add(name, args, index) {
  /** @type {Proc} */
  const p = {
    name,
    args,
    color: COLORS[index % COLORS.length] ?? 36,
    startedAt: 0,
    restart: { crashes: 0, bootFailures: 0 },
    status: 'stopped',
    tail: [],
  };
  procs.set(name, p);
  launch(p);
}

function checkAllDown() {
  if ([...procs.values()].every((p) => p.status === 'gave-up')) {
    warn('nothing is running any more: every process failed to boot (see above)');
    process.exit(1);
  }
}

async function stopAll(signal) {
  if (stopping) {
    warn(`${signal} again: killing everything now`);
    for (const p of procs.values()) p.child?.kill('SIGKILL');
    process.exit(130);
  }
  stopping = true;
  say(
    `${signal}: stopping ${
      [...procs.values()]
        .filter((p) => p.child)
        .map((p) => p.name)
        .join(' ') || 'nothing'
    }`,
  );
  const exits = [];
  for (const p of procs.values()) {
    if (p.timer) clearTimeout(p.timer);
    const child = p.child;
    if (!child) continue;
    exits.push(new Promise((resolve) => child.once('exit', resolve)));
    child.kill('SIGTERM');
  }
  const killer = setTimeout(() => {
    for (const p of procs.values()) {
      if (p.child) {
        warn(`${p.name} did not stop within ${STOP_GRACE_MS / 1000}s: SIGKILL`);
        p.child.kill('SIGKILL');
      }
    }
  }, STOP_GRACE_MS);
  await Promise.all(exits);
  clearTimeout(killer);
  say('all stopped');
  process.exit(0);
}
process.on('SIGINT', () => void stopAll('SIGINT'));
process.on('SIGTERM', () => void stopAll('SIGTERM'));
process.on('SIGHUP', () => void stopAll('SIGHUP'));

// ---- start --------------------------------------------------------------------------------------------

function portInUse(host, p) {
  return new Promise((resolve) => {
    const s = net.createConnection({ host, port: p });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

say(`master key: ${masterKey}  (${masterKeySource})`);
let index = 0;
if (simulator.start) {
  const cli = path.join(ROOT, 'packages/testing/dist/simulator/cli.js');
  const url = new URL(DEFAULT_SIMULATOR_URL);
  if (!existsSync(cli)) {
    warn(`provider simulator is not built (${path.relative(ROOT, cli)} missing): run bin/gateway setup`);
  } else if (await portInUse(url.hostname, Number(url.port))) {
    warn(
      `provider simulator: ${url.host} is already in use; assuming a simulator listens there (GW_SIMULATOR=0 to skip this check)`,
    );
  } else {
    say(`provider simulator on ${DEFAULT_SIMULATOR_URL} (${simulator.reason})`);
    add('simulator', [cli, '--host', url.hostname, '--port', url.port], index++);
  }
} else {
  say(`no provider simulator: ${simulator.reason}`);
}

const notBuilt = [];
for (const s of wanted) {
  const main = path.join(ROOT, 'apps', s, 'dist', 'main.js');
  if (!existsSync(main)) {
    notBuilt.push(s);
    warn(
      `${s}: NOT STARTED: apps/${s}/dist/main.js does not exist (the build of @gw/${s} failed or never ran: bin/gateway setup)`,
    );
    index++;
    continue;
  }
  add(s, [main], index++);
}
if (procs.size === 0) fail('nothing to run: no service is built');

// ---- ready? -------------------------------------------------------------------------------------------

async function httpStatus(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return { status: res.status, body: (await res.text()).slice(0, 500) };
  } catch (err) {
    return {
      status: 0,
      body:
        err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err),
    };
  }
}

async function waitReady(name, url) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = { status: 0, body: '' };
  while (Date.now() < deadline && !stopping) {
    const p = procs.get(name);
    if (!p || p.status === 'gave-up')
      return { ok: false, last: { status: 0, body: `${name} is not running` } };
    last = await httpStatus(url);
    if (last.status === 200) return { ok: true, last };
    await new Promise((r) => setTimeout(r, 500));
  }
  return { ok: false, last };
}

const base = `http://127.0.0.1:${port}`;
const results = [];
if (procs.has('ingress'))
  results.push(['ingress', `${base}/ready`, await waitReady('ingress', `${base}/ready`)]);
if (procs.has('billing')) {
  const url = `http://127.0.0.1:${billingPort}/ready`;
  results.push(['billing', url, await waitReady('billing', url)]);
}
if (stopping) await new Promise(() => undefined); // stopAll() exits

const notRunning = [
  ...notBuilt,
  ...[...procs.values()].filter((p) => p.status === 'gave-up').map((p) => p.name),
];
for (const [name, url, r] of results) {
  if (!r.ok)
    warn(
      `${name} is NOT READY after ${READY_TIMEOUT_MS / 1000}s: GET ${url} -> ${r.last.status || 'no answer'} ${r.last.body}`,
    );
}
if (notRunning.length) warn(`not running: ${notRunning.join(' ')}`);
const ingressReady = results.some(([name, , r]) => name === 'ingress' && r.ok);
if (ingressReady) {
  const host = 'localhost';
  say(
    `ready: the gateway answers on http://${host}:${port} (OpenAI-style base URL http://${host}:${port}/v1)` +
      (notRunning.length ? ', but see above' : ''),
  );
  process.stdout.write(
    [
      '',
      '  # try it (another terminal, in this directory):',
      masterKeySource === 'GATEWAY_MASTER_KEY'
        ? '  MASTER="$GATEWAY_MASTER_KEY"'
        : '  MASTER=$(cat .run/master-key)',
      `  TEAM=$(curl -s ${host}:${port}/admin/v1/teams -H "authorization: Bearer $MASTER" -H 'content-type: application/json' \\`,
      `    -d '{"name":"demo"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).id')`,
      `  KEY=$(curl -s ${host}:${port}/admin/v1/keys -H "authorization: Bearer $MASTER" -H 'content-type: application/json' \\`,
      `    -d "{\\"teamId\\":\\"$TEAM\\",\\"name\\":\\"demo\\"}" | node -pe 'JSON.parse(require("fs").readFileSync(0)).key')`,
      `  curl -s ${host}:${port}/v1/chat/completions -H "authorization: Bearer $KEY" -H 'content-type: application/json' \\`,
      `    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}'`,
      '',
      `  spend: curl -s '${host}:${billingPort}/billing/v1/spend?groupBy=model' -H "authorization: Bearer $MASTER"`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n') + '\n',
  );
} else {
  warn(
    `the gateway is NOT ready on ${base}${procs.has('ingress') ? '' : ' (ingress is not running)'}; the services that run are still supervised (Ctrl-C stops them)`,
  );
}
