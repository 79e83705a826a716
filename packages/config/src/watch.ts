import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import type { GatewayConfig } from '@gw/contracts';
import { ConfigError, parseConfigText, type Env } from './load.js';

export type ConfigListener = {
  /** a new valid config: take it */
  apply: (config: GatewayConfig, source: string) => void;
  /** a refused config: every problem; the config in force stays */
  refuse: (problems: string[], source: string) => void;
};

/** Validates a config text and hands it to `apply`, or lists every problem to `refuse`. Returns whether it applied. */
export function tryConfigText(text: string, env: Env, source: string, l: ConfigListener): boolean {
  let config: GatewayConfig;
  try {
    config = parseConfigText(text, env);
  } catch (err) {
    l.refuse(err instanceof ConfigError ? err.problems : [String(err)], source);
    return false;
  }
  l.apply(config, source);
  return true;
}

/** Re-reads and re-validates the file at `path`. */
export function reloadConfigFile(path: string, env: Env, l: ConfigListener): boolean {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    l.refuse([`cannot read ${path}: ${(err as Error).message}`], path);
    return false;
  }
  return tryConfigText(text, env, path, l);
}

/**
 * Watches the config file (stat polling: survives editors that replace the file and bind mounts that
 * fs.watch misses) and reloads it on every change. Returns the function that stops watching.
 */
export function watchConfigFile(path: string, env: Env, l: ConfigListener, intervalMs = 500): () => void {
  const onChange = (cur: Stats, prev: Stats) => {
    if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size) return;
    if (cur.nlink === 0) return; // removed (or mid-replace): the next change brings the new file
    reloadConfigFile(path, env, l);
  };
  watchFile(path, { interval: intervalMs, persistent: false }, onChange);
  return () => unwatchFile(path, onChange);
}
