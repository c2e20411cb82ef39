// Runs spec files under Deno or Bun with one harness, so both report alike: jest's globals come
// from jest-globals.ts (jest's own expect, jest-each and jest-mock), the spec files are imported
// unchanged. Deno needs --sloppy-imports (the specs' relative imports have no extension, as
// ts-jest takes them) and read, env, sys and loopback net permissions:
//   deno run --sloppy-imports --allow-read --allow-env --allow-sys --allow-net=127.0.0.1 spec/runtimes/runner.ts [files…]
//   bun spec/runtimes/runner.ts [files…]
// Without files it runs RUNTIME_SPEC_FILES, leaving out SKIPPED. It prints a line per file on
// stderr and, last on stdout, one line `RESULTS <json>` (a RunnerReport) for
// spec/runtimes/runtimes.spec.ts. (`bun test` runs these files as well; see README.)
import { Buffer } from 'node:buffer';
import process from 'node:process';
import { beginFile, installJestGlobals, reportStrayError, runTests, type TestResult } from './jest-globals';
import { RUNTIME_SPEC_FILES, runsIn, type OtherRuntime } from './subset';

/** What the runner reports: the runtime, its version, and every test of every file. */
export interface RunnerReport {
  runtime: OtherRuntime;
  version: string;
  files: { file: string; results: TestResult[] }[];
}

interface DenoApi {
  args: string[];
  version: { deno: string };
}

const deno = (globalThis as { Deno?: DenoApi }).Deno;
const bun = (globalThis as { Bun?: { version: string } }).Bun;
const runtime: OtherRuntime = deno ? 'deno' : 'bun';
if (!deno && !bun) throw new Error('spec/runtimes/runner.ts runs under Deno or Bun; Node runs the specs with jest');

// The specs use Node's Buffer as a test tool (comparing bytes); Deno provides it from node:buffer only.
(globalThis as { Buffer?: typeof Buffer }).Buffer ??= Buffer;
installJestGlobals();
// An error no test awaited fails the running test, as jest does, instead of ending the process.
if (deno) {
  globalThis.addEventListener('unhandledrejection', (event: PromiseRejectionEvent) => {
    event.preventDefault();
    reportStrayError(event.reason);
  });
  globalThis.addEventListener('error', (event: ErrorEvent) => {
    event.preventDefault();
    reportStrayError(event.error);
  });
} else {
  process.on('unhandledRejection', reportStrayError);
  process.on('uncaughtException', reportStrayError);
}

const args = deno ? deno.args : process.argv.slice(2);
const files = args.length > 0 ? args : RUNTIME_SPEC_FILES;
const report: RunnerReport = { runtime, version: deno ? deno.version.deno : bun!.version, files: [] };
for (const file of files) {
  beginFile();
  let results: TestResult[];
  try {
    await import(new URL(`../../${file}`, import.meta.url).href);
    results = await runTests((name) => runsIn(runtime, name));
  } catch (error) {
    results = [{ name: `${file} could not be loaded`, status: 'failed', error: String((error as Error)?.stack ?? error), ms: 0 }];
  }
  report.files.push({ file, results });
  const count = (status: TestResult['status']) => results.filter((r) => r.status === status).length;
  console.error(`${file}: ${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped`);
  for (const r of results) if (r.status === 'failed') console.error(`  FAILED ${r.name}\n${r.error}`);
}
console.log(`RESULTS ${JSON.stringify(report)}`);
// Every test has settled: end the process even if a spec left a timer or a socket open.
process.exit(0);
