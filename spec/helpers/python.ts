// Python peers for interop specs: Debian's /usr/bin/python3 with python3-websockets and
// python3-autobahn (installed by .ci/run), running a fixture script in spec/fixtures.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const PYTHON = '/usr/bin/python3';

/** Runs `fixture` as a client to completion and returns what it printed as JSON. */
export function runPythonClient(fixture: string, args: string[]): Promise<unknown> {
  return new Promise((resolve, reject) =>
    execFile(PYTHON, [join(__dirname, '../fixtures', fixture), ...args], { timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout))));
}

/** Starts `fixture server` and resolves once it printed `listening <port>`. Kill `child` after. */
export async function startPythonServer(fixture: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(PYTHON, [join(__dirname, '../fixtures', fixture), 'server'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.setEncoding('utf8');
    child.stdout!.once('data', (d: string) => resolve(Number(d.trim().split(' ')[1])));
    child.once('exit', (code) => reject(new Error(`${fixture} server exited ${code}`)));
  });
  return { child, port };
}
