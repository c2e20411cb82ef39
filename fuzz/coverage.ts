// Coverage feedback for `npm run fuzz`: V8's own block coverage of lib/, read in process
// through node:inspector (the same counters as `node --experimental-test-coverage` and c8;
// no instrumentation, no native addon). Used by the guided engine (fuzz/guided.ts) after every
// input, and by the unguided mode (`--unguided`) to measure what it reached.
//
// Precise coverage in count mode (`callCount: true`): each `take()` reports the blocks run since
// the last one, and resets the counts, so that an input's coverage is known on its own. Binary
// mode (`callCount: false`) loses blocks across readings: the same 12 s `protocol` run reached
// 316 blocks in count mode and reported 253 in binary mode (node 20).
//
// V8 reports, per function, nested source ranges with counts, and leaves out a nested range
// whose count equals its parent's: the ranges alone are not a stable list of blocks. So what is
// covered is kept as a map of covered source characters per lib/ file (the innermost range
// decides each character's count), which is exact whatever V8 merged; "new coverage" is a
// character covered for the first time. The blocks reported (`blocks()`) are the ranges V8 has
// ever reported on their own (a branch, a loop body, a function, the code after a `return`),
// counted as covered when a character of their own (outside their nested ranges) is covered.
import { Session } from 'node:inspector';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Range {
  startOffset: number;
  endOffset: number;
  count: number;
}
interface ScriptCoverage {
  url: string;
  functions: Array<{ ranges: Range[] }>;
}

interface FileMap {
  /** 1 for each source character (of the transpiled code) that some input ran. */
  covered: Uint8Array;
  /** Every range V8 reported on its own, as start * 2^24 + end. */
  blocks: Set<number>;
}

const KEY = 2 ** 24;

export class Coverage {
  private readonly session = new Session();
  private readonly files = new Map<string, FileMap>();
  private scratch = new Int8Array(1 << 16);
  private started = false;

  /** Coverage of the scripts whose file is under `root` (a directory), only. */
  constructor(private readonly root: string) {}

  start(): void {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
    this.started = true;
  }

  stop(): void {
    if (!this.started) return;
    this.post('Profiler.stopPreciseCoverage');
    this.post('Profiler.disable');
    this.session.disconnect();
    this.started = false;
  }

  /**
   * Reads (and resets) the counts since the last call; returns how many characters of lib/ were
   * covered for the first time. With `commit` false they are counted but not recorded as covered
   * (the engine's check of a batch of inputs, which it then runs one by one if there is news).
   */
  take(commit = true): number {
    const { result } = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    let fresh = 0;
    for (const script of result) {
      const file = this.fileOf(script.url);
      if (file === undefined) continue;
      fresh += this.merge(file, script, commit);
    }
    return fresh;
  }

  /** Blocks covered and known, source characters covered, over all lib/ files seen so far. */
  blocks(): { covered: number; known: number; chars: number; files: number } {
    let covered = 0;
    let known = 0;
    let chars = 0;
    for (const file of this.files.values()) {
      for (let i = 0; i < file.covered.length; i++) chars += file.covered[i]!;
      const ranges = [...file.blocks].map((k) => [Math.floor(k / KEY), k % KEY] as const).sort((a, b) => a[0] - b[0] || b[1] - a[1]);
      known += ranges.length;
      for (let k = 0; k < ranges.length; k++) {
        const [start, end] = ranges[k]!;
        // Its own characters: [start, end) less its nested ranges (which follow it in this order).
        let i = start;
        let j = k + 1;
        let hit = false;
        while (i < end && !hit) {
          while (j < ranges.length && ranges[j]![0] < i) j++;
          const child = j < ranges.length && ranges[j]![0] < end ? ranges[j] : undefined;
          const stop = child === undefined ? end : child[0];
          for (; i < stop; i++) if (file.covered[i]) { hit = true; break; }
          if (child !== undefined) { i = Math.max(i, child[1]); j++; }
        }
        if (hit) covered++;
      }
    }
    return { covered, known, chars, files: this.files.size };
  }

  private fileOf(url: string): FileMap | undefined {
    let file = this.files.get(url);
    if (file !== undefined) return file;
    let path: string;
    try {
      path = url.startsWith('file:') ? fileURLToPath(url) : url;
    } catch {
      return undefined;
    }
    if (!path.startsWith(this.root + sep)) return undefined;
    file = { covered: new Uint8Array(0), blocks: new Set() };
    this.files.set(url, file);
    return file;
  }

  private merge(file: FileMap, script: ScriptCoverage, commit: boolean): number {
    const ranges: Range[] = [];
    let end = 0;
    for (const fn of script.functions) {
      for (const r of fn.ranges) {
        ranges.push(r);
        if (r.endOffset > end) end = r.endOffset;
        file.blocks.add(r.startOffset * KEY + r.endOffset);
      }
    }
    if (ranges.length === 0) return 0;
    if (file.covered.length < end) {
      const grown = new Uint8Array(end);
      grown.set(file.covered);
      file.covered = grown;
    }
    if (this.scratch.length < end) this.scratch = new Int8Array(end);
    // Outer ranges first, so that an inner range's count overrides its parent's.
    ranges.sort((a, b) => a.startOffset - b.startOffset || b.endOffset - a.endOffset);
    const paint = this.scratch;
    for (const r of ranges) paint.fill(r.count > 0 ? 1 : 0, r.startOffset, r.endOffset);
    let fresh = 0;
    let reach = 0;
    for (const r of ranges) {
      if (r.endOffset <= reach) continue; // inside a range already scanned
      for (let i = Math.max(r.startOffset, reach); i < r.endOffset; i++) {
        if (paint[i] === 1 && file.covered[i] === 0) {
          if (commit) file.covered[i] = 1;
          fresh++;
        }
      }
      reach = r.endOffset;
    }
    return fresh;
  }

  private post(method: string, params?: object): unknown {
    // node:inspector's in-process session answers synchronously: the callback has run when post returns.
    let out: unknown;
    let error: Error | null = null;
    this.session.post(method, params, (err, res) => {
      error = err;
      out = res;
    });
    if (error !== null) throw error;
    return out;
  }
}
