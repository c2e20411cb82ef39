import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const root = join(__dirname, '../..');
export const examplesDir = join(root, 'examples');

/** Every example program: each `examples/*.ts` is one, whoever added it. */
export const exampleFiles = (): string[] =>
  readdirSync(examplesDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort();

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end; `timeoutMs` is only a safety net against a hung child. */
export function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Finished> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: root, env, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ code, stdout, stderr: err !== null && err.killed ? `${stderr}\n(killed after ${timeoutMs} ms)` : stderr });
    });
  });
}

/**
 * A temporary folder for the compiled examples, where `websocket-streams` resolves to this
 * repository as an installed dependency would (a symlink in its node_modules): outside the
 * repository the package's self-reference does not apply.
 */
export function makeOutDir(): { dir: string; remove: () => void } {
  if (!existsSync(join(root, 'dist/node.cjs'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
  const dir = mkdtempSync(join(tmpdir(), 'ws-streams-examples-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'websocket-streams'), 'dir');
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Type-checks (strict, whatever the tsconfig says) and compiles every example in one tsc run. */
export function compileExamples(outDir: string): Promise<Finished> {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  return run(process.execPath, [tsc, '-p', join(examplesDir, 'tsconfig.json'), '--strict', '--outDir', outDir, '--pretty', 'false'], process.env, 60_000);
}

/** The JSON of the one `RESULT ` line an example prints (the contract in examples/README.md). */
export function resultLine(stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n').filter((l) => l.startsWith('RESULT '));
  if (lines.length !== 1) throw new Error(`Expected one RESULT line, got ${lines.length} in:\n${stdout}`);
  return JSON.parse(lines[0]!.slice('RESULT '.length)) as Record<string, unknown>;
}
