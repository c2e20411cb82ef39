// Demo scripts run as the user runs them: `node demo/<…>.mjs` (against dist/), on port 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

/** The path of a file under demo/. */
export const demoPath = (...p: string[]): string => join(__dirname, '../../demo', ...p);

/**
 * Starts a demo script with PORT=0 (and `env`) and resolves with its URL once it prints
 * `listening on ws://…`; rejects if it exits first.
 */
export function startDemo(script: string, args: string[] = [], env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      const m = /listening on (ws:\/\/\S+)/.exec(d);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited ${code}: ${err}`)));
  });
}

/** SIGTERM, and waits until the process has exited. */
export async function stopDemo(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill();
  await exited;
}
