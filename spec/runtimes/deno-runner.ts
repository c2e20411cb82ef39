// Runs spec files under Deno, which has no jest: jest's globals come from jest-globals.ts, the
// spec files are imported unchanged. `deno run --sloppy-imports` (extensionless relative imports,
// as the specs write them for ts-jest) with read, env, sys and loopback net permissions:
//   deno run --sloppy-imports --allow-read --allow-env --allow-sys --allow-net=127.0.0.1 spec/runtimes/deno-runner.ts [files…]
// Without files it runs RUNTIME_SPEC_FILES. It prints a summary per file on stderr and, last on
// stdout, one line `RESULTS <json>` (RunnerReport) that spec/runtimes/runtimes.spec.ts reads.
import { Buffer } from 'node:buffer';
import { beginFile, installJestGlobals, reportStrayError, runTests, type TestResult } from './jest-globals';
import { RUNTIME_SPEC_FILES, runsIn } from './subset';

/** What the runner reports: the runtime's version and every test of every file. */
export interface RunnerReport {
  version: string;
  files: { file: string; results: TestResult[] }[];
}

interface DenoApi {
  args: string[];
  version: { deno: string };
  exit(code: number): never;
}

const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

// The specs use Node's Buffer as a test tool (comparing bytes); Deno provides it from node:buffer only.
(globalThis as { Buffer?: typeof Buffer }).Buffer ??= Buffer;
installJestGlobals();
globalThis.addEventListener('unhandledrejection', (event: PromiseRejectionEvent) => {
  event.preventDefault();
  reportStrayError(event.reason);
});
globalThis.addEventListener('error', (event: ErrorEvent) => {
  event.preventDefault();
  reportStrayError(event.error);
});

const files = Deno.args.length > 0 ? Deno.args : RUNTIME_SPEC_FILES;
const report: RunnerReport = { version: Deno.version.deno, files: [] };
for (const file of files) {
  beginFile();
  let results: TestResult[];
  try {
    await import(new URL(`../../${file}`, import.meta.url).href);
    results = await runTests((name) => runsIn('deno', name));
  } catch (error) {
    results = [{ name: `${file} could not be loaded`, status: 'failed', error: String((error as Error)?.stack ?? error), ms: 0 }];
  }
  report.files.push({ file, results });
  const count = (status: TestResult['status']) => results.filter((r) => r.status === status).length;
  console.error(`${file}: ${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped`);
  for (const r of results) if (r.status === 'failed') console.error(`  FAILED ${r.name}\n${r.error}`);
}
console.log(`RESULTS ${JSON.stringify(report)}`);
Deno.exit(0);
