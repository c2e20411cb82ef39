import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { usingPonyfill } from '../../lib/streams/stream-classes';

/**
 * Runs `spec/helpers/<file>` (TypeScript) in a child `node`, with the ponyfill forced when this
 * jest project uses it, and resolves with the JSON it printed on stdout.
 */
export function runChildReport<T>(file: string): Promise<T> {
  const preload = ['-r', join(__dirname, 'register-ts.cjs')];
  if (usingPonyfill) preload.push('-r', join(__dirname, '..', 'setup', 'force-ponyfill.ts'));
  const child = spawn(process.execPath, [...preload, join(__dirname, file)]);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  return new Promise((resolve, reject) => child.on('exit', (code) => {
    if (code !== 0) reject(new Error(`the child exited with ${code}: ${err}`));
    else resolve(JSON.parse(out) as T);
  }));
}
