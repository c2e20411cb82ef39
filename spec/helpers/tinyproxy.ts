// A real HTTP CONNECT proxy for the proxy specs: Debian's tinyproxy, started in the foreground
// with a config of our own on a free loopback port, and stopped by its PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptsOn, freePort } from './loopback';

export interface Tinyproxy {
  readonly port: number;
  /** The log so far (LogLevel Connect: one line per CONNECT request, with its target). */
  log(): string;
  stop(): Promise<void>;
}

export interface TinyproxyOptions {
  /** Ports CONNECT may reach; tinyproxy answers 403 for any other. */
  readonly connectPorts: readonly number[];
  /** `BasicAuth` credentials: without them in `Proxy-Authorization` the answer is 407. */
  readonly basicAuth?: { readonly user: string; readonly password: string };
}

/** Starts tinyproxy; fails (never skips) when it is not installed: CI installs it (.ci/run). */
export async function startTinyproxy(options: TinyproxyOptions): Promise<Tinyproxy> {
  const found = spawnSync('tinyproxy', ['-v'], { stdio: 'ignore' });
  if (found.error !== undefined) {
    throw new Error('tinyproxy is not installed: the HTTP proxy specs need it (apt-get install tinyproxy; .ci/run installs it)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'ws-tinyproxy-'));
  const logFile = join(dir, 'tinyproxy.log');
  const port = await freePort();
  const conf = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 30',
    'MaxClients 20',
    'Allow 127.0.0.1',
    ...options.connectPorts.map((p) => `ConnectPort ${p}`),
    ...(options.basicAuth ? [`BasicAuth ${options.basicAuth.user} ${options.basicAuth.password}`] : []),
    `LogFile "${logFile}"`,
    'LogLevel Connect',
    // Root keeps its user: the warning this gives is harmless, and there is no `nobody` to assume.
  ].join('\n');
  writeFileSync(join(dir, 'tinyproxy.conf'), `${conf}\n`);
  const child: ChildProcess = spawn('tinyproxy', ['-d', '-c', join(dir, 'tinyproxy.conf')], { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => (exited = true));
  // Bounded: 200 connect attempts 25 ms apart (5 s) for a process we do not otherwise hear from.
  let listening = false;
  for (let i = 0; i < 200 && !exited && !listening; i++) {
    listening = await acceptsOn(port);
    if (!listening) await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const stop = async (): Promise<void> => {
    if (!exited && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      await once(child, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  if (!listening) {
    const log = (() => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '(no log)';
      }
    })();
    await stop();
    throw new Error(`tinyproxy did not listen on 127.0.0.1:${port}:\n${log}`);
  }
  return { port, log: () => readFileSync(logFile, 'utf8'), stop };
}
