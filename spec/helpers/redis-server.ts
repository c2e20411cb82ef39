import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A real redis-server (Debian's /usr/bin/redis-server) for the pubsub specs: started on a free
// loopback port with nothing persisted, killed and restarted on the same port to cut every
// client off, and stopped by the spec that started it, also when the spec fails (and, as a
// last resort, when the test process exits).

const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
/** How long redis-server may take to say it is ready: a safety net, not a timing assumption. */
const START_LIMIT_MS = 20_000;

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A redis-server child process on 127.0.0.1. */
export class RedisServer {
  readonly port: number;
  readonly #dir: string;
  #child: ChildProcess | undefined;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.#dir = dir;
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Whether redis-server is running now. */
  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts redis-server on a free loopback port (tries another port if one is taken meanwhile). */
  static async start(): Promise<RedisServer> {
    if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} is missing: apt-get install redis-server`);
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), 'redis-spec-')));
      try {
        await server.restart();
        return server;
      } catch (err) {
        lastError = err;
        server.#removeDir();
      }
    }
    throw lastError;
  }

  /** Starts redis-server again on the same port after `kill()`. */
  async restart(): Promise<void> {
    if (this.#child !== undefined) throw new Error('redis-server is already running');
    const child = spawn(REDIS_SERVER, [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', this.#dir, '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'notice',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    this.#child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`redis-server not ready within ${START_LIMIT_MS} ms:\n${output}`)), START_LIMIT_MS);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(err);
      };
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        output += d;
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
      child.once('exit', (code, signal) => {
        running.delete(child);
        if (this.#child === child) this.#child = undefined;
        fail(new Error(`redis-server exited (${code ?? signal}) before it was ready:\n${output}`));
      });
      child.once('error', fail);
    });
  }

  /** Kills redis-server (SIGKILL: every client is cut off at once, as in a crash) and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // #child is cleared by the exit handler of restart(), so a child still set is running.
    child.kill('SIGKILL');
    await exited;
  }

  /** Stops redis-server and removes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    this.#removeDir();
  }

  #removeDir(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** A port nobody listens on at the moment (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
