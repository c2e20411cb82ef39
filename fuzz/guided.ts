// The coverage-guided engine of `npm run fuzz` (libFuzzer's loop, in process, in JavaScript):
// run an input, read V8's block coverage of lib/ (fuzz/coverage.ts), keep the input if it ran
// code no input had run before, and make the next inputs mostly by mutating the kept ones.
// Inputs that added coverage are written to a working directory (fuzz/work/<target>/, not
// committed, read back by the next run); an input that breaks an invariant is minimized and
// written to fuzz/crashes/<target>/.
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Coverage } from './coverage';
import { loadCorpus, mutate } from './harness';
import { hex, mulberry32, type FuzzTarget } from './support';

export const LIB_DIR = resolve(__dirname, '..', 'lib');
export const WORK_DIR = join(__dirname, 'work');
export const CRASH_DIR = join(__dirname, 'crashes');

export interface GuidedOptions {
  /** Wall-clock budget, in seconds (ignored when `runs` is given). */
  seconds: number;
  runs?: number;
  seed: number;
  /** Start from the committed corpus only, not from what earlier runs kept in fuzz/work/. */
  fresh?: boolean;
  /** Where kept inputs go (default fuzz/work/<target>/) and crashes (default fuzz/crashes/<target>/). */
  workDir?: string;
  crashDir?: string;
  /** False: no inputs from the target's generator (raw bytes and mutations only), to measure what guidance adds. */
  generator?: boolean;
  /** Seconds between progress lines. */
  every?: number;
  log?: (line: string) => void;
}

export interface GuidedResult {
  ok: boolean;
  execs: number;
  seconds: number;
  blocks: number;
  knownBlocks: number;
  chars: number;
  corpus: number;
  /** Seconds into the run when coverage last grew. */
  lastNew: number;
  crashFile?: string;
}

const sha = (data: Uint8Array): string => createHash('sha1').update(data).digest('hex').slice(0, 16);

function readDir(dir: string): Uint8Array[] {
  try {
    return readdirSync(dir).filter((f) => !f.startsWith('.')).sort().map((f) => new Uint8Array(readFileSync(join(dir, f))));
  } catch {
    return [];
  }
}

/** Runs the target on `data`; the error it threw, if any. */
function attempt(target: FuzzTarget, data: Uint8Array): unknown {
  try {
    target.fuzz(data);
    return undefined;
  } catch (err) {
    return err ?? new Error(String(err));
  }
}

/** What makes two failures the same bug: the error's name and its message up to the first digit or colon. */
function signature(err: unknown): string {
  const e = err as Error;
  const message = String(e?.message ?? e);
  const cut = message.search(/[0-9:]/);
  return `${e?.name ?? typeof e}: ${cut < 0 ? message : message.slice(0, cut)}`;
}

/**
 * The smallest input found (within `budget` runs) that fails with the same signature: chunks
 * removed, halving their size down to one byte, then bytes set to 0.
 */
export function minimize(target: FuzzTarget, input: Uint8Array, err: unknown, budget = 20_000): Uint8Array {
  const want = signature(err);
  let best = input;
  let runs = 0;
  const fails = (candidate: Uint8Array): boolean => {
    runs++;
    const e = attempt(target, candidate);
    return e !== undefined && signature(e) === want;
  };
  for (let size = Math.max(1, best.length >> 1); size >= 1 && runs < budget; size = size >> 1) {
    for (let at = 0; at < best.length && runs < budget;) {
      const candidate = new Uint8Array([...best.subarray(0, at), ...best.subarray(at + size)]);
      if (fails(candidate)) best = candidate;
      else at += size;
    }
  }
  for (let i = 0; i < best.length && runs < budget; i++) {
    if (best[i] === 0) continue;
    const candidate = best.slice();
    candidate[i] = 0;
    if (fails(candidate)) best = candidate;
  }
  return best;
}

export function guidedFuzz(target: FuzzTarget, options: GuidedOptions): GuidedResult {
  const log = options.log ?? ((line: string) => console.log(line));
  const every = (options.every ?? 5) * 1000;
  const rand = mulberry32(options.seed);
  const int = (n: number): number => Math.floor(rand() * n);
  const work = options.workDir ?? join(WORK_DIR, target.name);
  mkdirSync(work, { recursive: true });

  const coverage = new Coverage(LIB_DIR);
  const corpus: Uint8Array[] = [];
  let execs = 0;
  let lastNew = 0;
  let crash: { input: Uint8Array; err: unknown } | undefined;

  /** One run of `data` with its coverage read; true if it ran new code (and was kept). */
  const run = (data: Uint8Array, save: boolean): boolean => {
    execs++;
    const err = attempt(target, data);
    const fresh = coverage.take();
    if (err !== undefined) {
      crash = { input: data, err };
      return false;
    }
    if (fresh === 0) return false;
    corpus.push(data);
    lastNew = (performance.now() - started) / 1000;
    if (save) writeFileSync(join(work, `${sha(data)}.bin`), data);
    return true;
  };

  coverage.start();
  const started = performance.now();
  try {
    // The committed corpus is the seed (all of it kept, for mutation); then what earlier runs kept, if it still adds coverage.
    const seeds = loadCorpus(target.name).map(([, d]) => d);
    for (const d of seeds) {
      if (!run(d, false) && crash === undefined) corpus.push(d);
      if (crash !== undefined) break;
    }
    if (!options.fresh) {
      for (const d of readDir(work)) {
        if (crash !== undefined) break;
        run(d, false);
      }
    }
    const line = (what: string): void => {
      const b = coverage.blocks();
      const s = (performance.now() - started) / 1000;
      log(`#${execs} ${what} blocks: ${b.covered}/${b.known} (lib bytes: ${b.chars}) corpus: ${corpus.length} exec/s: ${Math.round(execs / s)} time: ${s.toFixed(0)} s`);
    };
    line('INITED');

    // Fresh inputs from the target's own generator (fast-check), drawn in batches.
    let generated: Uint8Array[] = [];
    const generate = (): Uint8Array => {
      if (generated.length === 0) generated = fc.sample(target.inputs, { seed: int(2 ** 31), numRuns: 256 });
      return generated.pop()!;
    };
    const randomBytes = (): Uint8Array => {
      const out = new Uint8Array(int(rand() < 0.5 ? 16 : 256));
      for (let i = 0; i < out.length; i++) out[i] = int(256);
      return out;
    };
    // The newest entries are picked more often: they hold the coverage reached last.
    const pick = (): Uint8Array => corpus[corpus.length - 1 - Math.floor(corpus.length * rand() ** 2)]!;
    const next = (): Uint8Array => {
      const r = rand();
      if (options.generator !== false && (r < 0.08 || corpus.length === 0)) return generate();
      if (corpus.length === 0) return randomBytes();
      if (r < 0.1) return randomBytes();
      let seed = pick();
      if (rand() < 0.15) {
        // Cross-over: the start of one entry, the end of another.
        const other = pick();
        seed = new Uint8Array([...seed.subarray(0, int(seed.length + 1)), ...other.subarray(int(other.length + 1))]);
      }
      const ops: Array<[number, number, number]> = [];
      for (let n = 1 + int(rand() < 0.7 ? 3 : 8); n > 0; n--) ops.push([int(6), int(2 ** 31), int(2 ** 31)]);
      return mutate(seed, ops);
    };

    // Reading coverage costs far more than a run of most targets (0.5–2 ms: V8 walks every
    // function it has compiled), so inputs are run in batches with one reading: a batch that
    // reached nothing new is done with; one that did is run again input by input, each input
    // read on its own, to keep exactly those that bring the news (coverage is a function of the
    // input). The batch doubles after a dry one, up to 128, and shrinks to a quarter after news.
    const done = options.runs !== undefined ? () => execs >= options.runs! : () => performance.now() - started >= options.seconds * 1000;
    let size = 1;
    let lastLine = performance.now();
    while (crash === undefined && !done()) {
      const batch: Uint8Array[] = [];
      for (let k = 0; k < size && !done(); k++) {
        const data = next();
        execs++;
        const err = attempt(target, data);
        if (err !== undefined) {
          crash = { input: data, err };
          break;
        }
        batch.push(data);
      }
      if (crash !== undefined) break;
      const news = coverage.take(false);
      if (news === 0) {
        size = Math.min(128, size * 2);
      } else {
        for (const data of batch) run(data, true);
        size = Math.max(1, size >> 2);
      }
      const now = performance.now();
      if (now - lastLine >= every) {
        line('PULSE');
        lastLine = now;
      }
    }
    const b = coverage.blocks();
    const seconds = (performance.now() - started) / 1000;
    line('DONE');
    if (crash === undefined) return { ok: true, execs, seconds, blocks: b.covered, knownBlocks: b.known, chars: b.chars, corpus: corpus.length, lastNew };

    const { input, err } = crash as { input: Uint8Array; err: unknown };
    coverage.stop();
    const small = minimize(target, input, err);
    const dir = options.crashDir ?? join(CRASH_DIR, target.name);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${sha(small)}.bin`);
    writeFileSync(file, small);
    writeFileSync(join(dir, `${sha(input)}.original.bin`), input);
    const final = attempt(target, small) as Error;
    log(`${target.name}: BROKEN after ${execs} runs: ${final?.message ?? String(final)}`);
    log(`  input (hex, minimized from ${input.length} to ${small.length} bytes): ${hex(small)}\n  saved as ${file}`);
    return { ok: false, execs, seconds, blocks: b.covered, knownBlocks: b.known, chars: b.chars, corpus: corpus.length, lastNew, crashFile: file };
  } finally {
    coverage.stop();
  }
}
