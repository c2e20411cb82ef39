// The core is runtime-neutral: this spec runs the subset of spec files in spec/runtimes/subset.ts
// under Deno and under Bun (the `deno` and `bun` devDependencies, their binaries from npm) with
// spec/runtimes/runner.ts, and checks that every file ran and every test passed.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunnerReport } from './runner';
import { RUNTIME_SPEC_FILES, SKIPPED, type OtherRuntime } from './subset';

const root = resolve(__dirname, '../..');

/** The command line of each runtime; both read the same runner and spec files. */
const COMMANDS: Record<OtherRuntime, { bin: string; args: string[] }> = {
  deno: {
    bin: join(root, 'node_modules/.bin/deno'),
    // --sloppy-imports: the specs import relative modules without an extension, as ts-jest takes them.
    args: ['run', '--sloppy-imports', '--allow-read', '--allow-env', '--allow-sys', '--allow-net=127.0.0.1', 'spec/runtimes/runner.ts'],
  },
  bun: { bin: join(root, 'node_modules/.bin/bun'), args: ['spec/runtimes/runner.ts'] },
};

/** A safety net for a hung runtime, far above the half minute a run takes on a busy 2-core machine. */
const HARD_LIMIT_MS = 240_000;

/** Runs the runner under `runtime` and returns its report; kills the whole process group past the hard limit. */
function runUnder(runtime: OtherRuntime): Promise<{ report: RunnerReport | undefined; output: string }> {
  const { bin, args } = COMMANDS[runtime];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bin, args, {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      // BUN_RUNTIME_TRANSPILER_CACHE_PATH=0: Bun's transpiler cache keeps one output per source
      // file for `bun file` and `bun test` alike, so a spec file cached by this plain run would
      // lack the test globals `bun test` injects ("describe is not defined") in a later `bun test`.
      env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1', BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), HARD_LIMIT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`Could not start ${bin} (is the ${runtime} devDependency installed?): ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('RESULTS '));
      const output = `${runtime} exited with ${signal ?? code}\n${stderr.slice(-8000)}`;
      resolvePromise({ report: line === undefined ? undefined : (JSON.parse(line.slice('RESULTS '.length)) as RunnerReport), output });
    });
  });
}

const installedVersion = (pkg: string): string =>
  (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

describe.each(['deno', 'bun'] as const)('the runtime-neutral spec subset under %s', (runtime) => {
  it(`runs every file of the subset under ${runtime}, and every test passes but the listed skips`, async () => {
    const { report, output } = await runUnder(runtime);
    if (report === undefined) throw new Error(`No report from ${runtime}:\n${output}`);
    expect(report.runtime).toBe(runtime);
    expect(report.version).toBe(installedVersion(runtime));
    expect(report.files.map((f) => f.file)).toEqual(RUNTIME_SPEC_FILES);

    const all = report.files.flatMap((f) => f.results.map((r) => ({ ...r, file: f.file })));
    const failed = all.filter((r) => r.status === 'failed').map((r) => `${r.file}: ${r.name}\n${r.error ?? ''}`);
    expect(failed).toEqual([]);
    // A file whose tests did not register (a broken import, a wrong path) runs nothing and fails here.
    for (const f of report.files) expect([f.file, f.results.filter((r) => r.status === 'passed').length > 0]).toEqual([f.file, true]);
    // Only the tests listed with a reason are left out: no stray skip, no stale entry.
    expect(all.filter((r) => r.status === 'skipped').map((r) => r.name).sort()).toEqual(Object.keys(SKIPPED[runtime]).sort());
  }, HARD_LIMIT_MS + 10_000);
});
