// `npm run fuzz -- <target> [--time 60] [--runs N] [--seed S]`: replays the target's corpus,
// then fuzzes it for a time (or a number of runs) and reports runs per second. A broken
// invariant is shrunk by fast-check, saved under fuzz/crashes/<target>/ and printed; the
// exit code is then 1. `npm run fuzz -- all --time 10` runs every target in turn.
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findTarget, inputsFor, loadCorpus, TARGETS } from './harness';
import { hex, type FuzzTarget } from './support';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

function fuzzOne(target: FuzzTarget, seconds: number, runs: number | undefined, seed: number): boolean {
  const corpus = loadCorpus(target.name);
  for (const [, data] of corpus) target.fuzz(data);
  const started = performance.now();
  const result = fc.check(fc.property(inputsFor(target, corpus.map(([, d]) => d)), (data) => {
    target.fuzz(data);
  }), { seed, numRuns: runs ?? Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: runs === undefined ? seconds * 1000 : undefined, endOnFailure: false });
  const elapsed = (performance.now() - started) / 1000;
  const done = result.numRuns;
  console.log(`${target.name}: ${corpus.length} corpus files replayed, ${done} runs in ${elapsed.toFixed(1)} s (${Math.round(done / elapsed)} runs/s), seed ${seed}`);
  if (!result.failed) return true;
  const input = (result.counterexample as [Uint8Array] | null)?.[0] ?? new Uint8Array(0);
  const dir = join(__dirname, 'crashes', target.name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${createHash('sha1').update(input).digest('hex').slice(0, 16)}.bin`);
  writeFileSync(file, input);
  console.log(`${target.name}: BROKEN after ${result.numRuns} runs (${result.numShrinks} shrinks): ${(result.errorInstance as Error)?.message ?? String(result.errorInstance)}`);
  console.log(`  input (hex): ${hex(input)}\n  saved as ${file}`);
  return false;
}

const name = process.argv[2];
if (name === undefined || name.startsWith('--')) {
  console.error(`Usage: npm run fuzz -- <target|all> [--time seconds] [--runs n] [--seed n]\nTargets: ${TARGETS.map((t) => t.name).join(', ')}`);
  process.exit(2);
}
const seconds = Number(arg('time') ?? 60);
const runs = arg('runs') === undefined ? undefined : Number(arg('runs'));
const seed = Number(arg('seed') ?? Date.now() % 2 ** 31);
const targets = name === 'all' ? TARGETS : [findTarget(name)];
let ok = true;
for (const t of targets) ok = fuzzOne(t, seconds, runs, seed) && ok;
process.exit(ok ? 0 : 1);
