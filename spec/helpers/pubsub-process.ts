import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ChildEvent, ChildReport, ChildRequest } from './pubsub-server-child';

/** How long a child may take to start: a safety net, not a timing assumption. */
const START_LIMIT_MS = 30_000;

type Request = ChildRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * A server process of the multi-process pubsub specs (spec/helpers/pubsub-server-child.ts),
 * driven over IPC. `stop()` ends it, with SIGKILL if it does not close by itself.
 */
export class PubSubProcess {
  readonly name: string;
  readonly url: string;
  readonly publisherId: string;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  readonly #statuses: Array<'disconnected' | 'reconnected'> = [];
  #statusWaiters: Array<() => void> = [];
  #nextId = 1;

  private constructor(name: string, child: ChildProcess, ready: { url: string; publisherId: string }) {
    this.name = name;
    this.#child = child;
    this.url = ready.url;
    this.publisherId = ready.publisherId;
    child.on('message', (m: ChildEvent | { id: number; result?: unknown; error?: string }) => {
      if ('event' in m) {
        if (m.event === 'status') {
          this.#statuses.push(m.type);
          for (const w of this.#statusWaiters.splice(0)) w();
        }
        return;
      }
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (m.error !== undefined) p?.reject(new Error(`${name}: ${m.error}`));
      else p?.resolve(m.result);
    });
    child.once('exit', (code, signal) => {
      for (const p of this.#pending.values()) p.reject(new Error(`${name} exited (${code ?? signal})`));
      this.#pending.clear();
    });
  }

  /** Starts a server process named `name` (its first letter marks its binary messages) on the bus at `redisUrl`. */
  static start(name: string, redisUrl: string, env: Record<string, string> = {}): Promise<PubSubProcess> {
    const child = spawn(process.execPath, ['-r', join(__dirname, 'register-ts.cjs'), join(__dirname, 'pubsub-server-child.ts')], {
      env: { ...process.env, ...env, PUBSUB_NAME: name, REDIS_URL: redisUrl },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    return new Promise((resolve, reject) => {
      const fail = (why: string): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`${name}: ${why}\n${stderr}`));
      };
      const timer = setTimeout(() => fail(`not ready within ${START_LIMIT_MS} ms`), START_LIMIT_MS);
      child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before it was ready`));
      child.once('message', (m: ChildEvent) => {
        clearTimeout(timer);
        if (m.event === 'ready') resolve(new PubSubProcess(name, child, m));
        else fail(`said ${JSON.stringify(m)} before it was ready`);
      });
    });
  }

  request(req: { cmd: 'report' } | { cmd: 'publish'; topic: string; count: number; binary?: boolean; size?: number } | { cmd: 'stream-stop' }): Promise<ChildReport>;
  request(req: Request): Promise<void>;
  request(req: Request): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.send({ ...req, id });
    });
  }

  /** Resolves once the child has reported this status `n` times in all. */
  async status(type: 'disconnected' | 'reconnected', n: number): Promise<void> {
    while (this.#statuses.filter((s) => s === type).length < n) {
      await new Promise<void>((resolve) => this.#statusWaiters.push(resolve));
    }
  }

  /** Closes the child's server and bus and waits for it to exit; kills it if it cannot. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await this.request({ cmd: 'close' }).catch(() => child.kill('SIGKILL'));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
