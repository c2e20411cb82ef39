// A real nginx as the WebSocket reverse proxy for the cluster specs: Debian's nginx, run in the
// foreground with demo/cluster/nginx.conf (its ports filled in) in a prefix directory of its own
// under the OS temp dir (pid, logs and temp files there), on a free loopback port, and stopped
// by its PID. The system's config and /var/log/nginx are never touched.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptsOn, freePort } from './loopback';

/** A running nginx started by `startNginx()`. */
export interface Nginx {
  /** The port nginx listens on (127.0.0.1). */
  readonly port: number;
  /** nginx's error log so far. */
  log(): string;
  /** SIGTERM (nginx's fast shutdown: workers close their connections), then the prefix is removed. */
  stop(): Promise<void>;
}

/** demo/cluster/nginx.conf with `${LISTEN_PORT}` and `${WORKERS_PORT}` filled in. */
export function renderNginxConf(listenPort: number, workersPort: number): string {
  const template = readFileSync(join(__dirname, '../../demo/cluster/nginx.conf'), 'utf8');
  return template.replace(/\$\{(LISTEN_PORT|WORKERS_PORT)\}/g, (_, name: string) => String(name === 'LISTEN_PORT' ? listenPort : workersPort));
}

/** Starts nginx in front of `workersPort`; fails (never skips) when it is not installed: CI installs it (.ci/run). */
export async function startNginx(workersPort: number): Promise<Nginx> {
  if (spawnSync('nginx', ['-v'], { stdio: 'ignore' }).error !== undefined) {
    throw new Error('nginx is not installed: the cluster specs need it (apt-get install nginx; .ci/run installs it)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'ws-nginx-'));
  // Started as root, nginx runs its worker as `nobody`, which must reach its temp directories.
  chmodSync(dir, 0o755);
  const errorLog = join(dir, 'error.log');
  const readLog = (): string => {
    try {
      return readFileSync(errorLog, 'utf8');
    } catch {
      return '(no error log)';
    }
  };
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), renderNginxConf(port, workersPort));
  const child = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', errorLog], { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => (exited = true));
  const stop = async (): Promise<void> => {
    if (!exited && child.pid !== undefined) {
      const gone = once(child, 'exit');
      process.kill(child.pid, 'SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Bounded: 200 connect attempts 25 ms apart (5 s) for a process we do not otherwise hear from.
  let listening = false;
  for (let i = 0; i < 200 && !exited && !listening; i++) {
    listening = await acceptsOn(port);
    if (!listening) await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (!listening) {
    const log = readLog();
    await stop();
    throw new Error(`nginx did not listen on 127.0.0.1:${port}:\n${log}`);
  }
  return { port, log: readLog, stop };
}
