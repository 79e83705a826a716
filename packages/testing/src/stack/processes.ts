import { spawn, type ChildProcess } from 'node:child_process';

export type ProcessSpec = { name: string; command: string; args: string[]; env: NodeJS.ProcessEnv; cwd?: string };

/**
 * Child processes of a test stack. Output is kept in a ring buffer per process (shown when something fails)
 * and echoed when STACK_LOGS=1. Unlike the launcher's supervisor, nothing is restarted: tests stop services
 * on purpose.
 */
export class ProcessGroup {
  private readonly children = new Map<string, ChildProcess>();
  private readonly specs = new Map<string, ProcessSpec>();
  private readonly logs = new Map<string, string[]>();

  constructor(private readonly echo: boolean) {}

  start(spec: ProcessSpec): ChildProcess {
    this.specs.set(spec.name, spec);
    const child = spawn(spec.command, spec.args, { env: spec.env, cwd: spec.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.set(spec.name, child);
    const log = this.logs.get(spec.name) ?? [];
    this.logs.set(spec.name, log);
    const onData = (buf: Buffer) => {
      for (const line of buf.toString('utf8').split('\n')) {
        if (!line) continue;
        log.push(line);
        if (log.length > 200) log.shift();
        if (this.echo) process.stderr.write(`[${spec.name}] ${line}\n`);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code, signal) => log.push(`<exited code=${code} signal=${signal}>`));
    return child;
  }

  restart(name: string): ChildProcess {
    const spec = this.specs.get(name);
    if (!spec) throw new Error(`unknown process ${name}`);
    return this.start(spec);
  }

  pid(name: string): number | undefined {
    const c = this.children.get(name);
    return c && c.exitCode === null && c.signalCode === null ? c.pid : undefined;
  }

  pids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of this.children.keys()) {
      const p = this.pid(name);
      if (p) out[name] = p;
    }
    return out;
  }

  /** Stops a process (SIGTERM, then SIGKILL after `graceMs`) and resolves when it has exited. */
  async stop(name: string, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<void> {
    const child = this.children.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.children.keys()].map((n) => this.stop(n)));
  }

  logsOf(name: string): string {
    return (this.logs.get(name) ?? []).join('\n');
  }

  allLogs(): string {
    return [...this.logs.keys()].map((n) => `---- ${n}\n${this.logsOf(n)}`).join('\n');
  }
}
