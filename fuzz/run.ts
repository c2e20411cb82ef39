// `npm run fuzz -- <target> [--time 60] [--runs N] [--seed S] [--fresh] [--unguided] [--no-generator]`: replays the
// target's corpus, then fuzzes it, guided by coverage (fuzz/guided.ts), for a time (or a number
// of runs), printing blocks of lib/ covered, corpus size and execs per second as it goes. Inputs
// that add coverage are kept in fuzz/work/<target>/ (not committed; `--fresh` ignores what is
// there). A broken invariant is minimized, saved under fuzz/crashes/<target>/ and printed; the
// exit code is then 1. `npm run fuzz -- all --time 10` runs every target in turn.
// `--unguided` runs the fast-check stream that `npm test` replays (generated and mutated inputs,
// no feedback) with the same coverage measured, for comparison; `--no-generator` leaves out the
// target's fast-check generator in either mode (raw bytes and corpus mutations only).
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Coverage } from './coverage';
import { guidedFuzz, LIB_DIR } from './guided';
import { findTarget, inputsFor, loadCorpus, TARGETS } from './harness';
import { hex, type FuzzTarget } from './support';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

function unguided(target: FuzzTarget, seconds: number, runs: number | undefined, seed: number): boolean {
  const coverage = new Coverage(LIB_DIR);
  coverage.start();
  const corpus = loadCorpus(target.name);
  for (const [, data] of corpus) target.fuzz(data);
  const started = performance.now();
  let lastLine = started;
  let lastNew = 0;
  let n = 0;
  const read = (): void => {
    if (coverage.take() > 0) lastNew = (performance.now() - started) / 1000;
  };
  const line = (what: string): void => {
    read();
    const b = coverage.blocks();
    const s = (performance.now() - started) / 1000;
    console.log(`#${n} ${what} blocks: ${b.covered}/${b.known} (lib bytes: ${b.chars}) exec/s: ${Math.round(n / s)} time: ${s.toFixed(0)} s, last new coverage at ${lastNew.toFixed(1)} s (unguided)`);
  };
  read();
  const result = fc.check(fc.property(inputsFor(target, corpus.map(([, d]) => d), !flag('no-generator')), (data) => {
    n++;
    // Coverage is read every 1024 runs (to know when it last grew), not steering anything.
    if ((n & 1023) === 0) {
      read();
      if (performance.now() - lastLine >= 5000) {
        line('PULSE');
        lastLine = performance.now();
      }
    }
    target.fuzz(data);
  }), { seed, numRuns: runs ?? Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: runs === undefined ? seconds * 1000 : undefined, endOnFailure: false });
  line('DONE');
  coverage.stop();
  const elapsed = (performance.now() - started) / 1000;
  const done = result.numRuns;
  console.log(`${target.name}: ${corpus.length} corpus files replayed, ${done} runs in ${elapsed.toFixed(1)} s (${Math.round(done / elapsed)} runs/s), seed ${seed}, unguided`);
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

function guided(target: FuzzTarget, seconds: number, runs: number | undefined, seed: number, fresh: boolean): boolean {
  const r = guidedFuzz(target, { seconds, runs, seed, fresh, generator: !flag('no-generator'), log: (l) => console.log(`${target.name} ${l}`) });
  console.log(`${target.name}: ${r.execs} runs in ${r.seconds.toFixed(1)} s (${Math.round(r.execs / r.seconds)} runs/s), ${r.blocks} blocks of lib/ covered, corpus ${r.corpus}, last new coverage at ${r.lastNew.toFixed(1)} s, seed ${seed}, coverage-guided`);
  return r.ok;
}

const name = process.argv[2];
if (name === undefined || name.startsWith('--')) {
  console.error(`Usage: npm run fuzz -- <target|all> [--time seconds] [--runs n] [--seed n] [--fresh] [--unguided] [--no-generator]\nTargets: ${TARGETS.map((t) => t.name).join(', ')}`);
  process.exit(2);
}
const seconds = Number(arg('time') ?? 60);
const runs = arg('runs') === undefined ? undefined : Number(arg('runs'));
const seed = Number(arg('seed') ?? Date.now() % 2 ** 31);
const targets = name === 'all' ? TARGETS : [findTarget(name)];
let ok = true;
for (const t of targets) ok = (flag('unguided') ? unguided(t, seconds, runs, seed) : guided(t, seconds, runs, seed, flag('fresh'))) && ok;
process.exit(ok ? 0 : 1);
