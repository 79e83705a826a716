import type { FaultRule, SimulatorStats } from './types.js';

/**
 * Scripts a simulator that runs in another process (the start command's, the bench's) through its /__sim/*
 * endpoints. `url` is the simulator's root (`http://127.0.0.1:8099`, without /v1).
 */
export class SimulatorControl {
  readonly url: string;
  constructor(url: string) {
    this.url = url.replace(/\/v1\/?$/, '').replace(/\/$/, '');
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'content-type': 'application/json' };
    }
    const res = await fetch(`${this.url}${path}`, init);
    const out: unknown = await res.json();
    if (!res.ok) throw new Error(`simulator ${method} ${path}: ${res.status} ${JSON.stringify(out)}`);
    return out;
  }

  async setFaults(rules: FaultRule[]): Promise<void> {
    await this.call('POST', '/__sim/faults', rules);
  }
  async clearFaults(): Promise<void> {
    await this.call('DELETE', '/__sim/faults');
  }
  async stats(): Promise<SimulatorStats> {
    return (await this.call('GET', '/__sim/stats')) as SimulatorStats;
  }
  async resetStats(): Promise<void> {
    await this.call('POST', '/__sim/reset');
  }
}
