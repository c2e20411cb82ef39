// The coverage-guided engine of `npm run fuzz` (fuzz/guided.ts, fuzz/coverage.ts), by counts,
// never by time: V8's block coverage seen as new only once, the corpus growing with inputs that
// reach new code, crashes minimized and saved. Native project only (README, "Fuzzing").
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Coverage } from '../../fuzz/coverage';
import { guidedFuzz, LIB_DIR, minimize } from '../../fuzz/guided';
import { findTarget, loadCorpus } from '../../fuzz/harness';
import { InvariantBroken, type FuzzTarget } from '../../fuzz/support';
import { parseClosePayload } from '../../lib/codec/close-payload';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

describe('Coverage (V8 block coverage of lib/)', () => {
  it('sees code of lib/ as new once, and a branch not taken before as new', () => {
    const coverage = new Coverage(LIB_DIR);
    coverage.start();
    try {
      coverage.take();
      parseClosePayload(bytes(0x03, 0xe8, 0x68, 0x69));
      expect(coverage.take()).toBeGreaterThan(0);
      parseClosePayload(bytes(0x03, 0xe8, 0x68, 0x69));
      expect(coverage.take()).toBe(0);
      const before = coverage.blocks().covered;
      try {
        parseClosePayload(bytes(0x03));
      } catch {
        // refused with 1002: the branch is what counts
      }
      expect(coverage.take()).toBeGreaterThan(0);
      expect(coverage.blocks().covered).toBeGreaterThan(before);
      // Code outside lib/ (this spec) is not counted.
      [1, 2, 3].map((x) => x * 2);
      expect(coverage.take()).toBe(0);
    } finally {
      coverage.stop();
    }
  });
});

describe('guidedFuzz', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ws-fuzz-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the inputs that reach new code of lib/, and writes them to its working directory', () => {
    const target = findTarget('close-payload');
    const seeds = loadCorpus('close-payload').length;
    const r = guidedFuzz(target, { seconds: 0, runs: 3000, seed: 1, fresh: true, workDir: join(dir, 'work'), log: () => {} });
    expect(r.ok).toBe(true);
    expect(r.execs).toBe(3000);
    expect(r.blocks).toBeGreaterThan(0);
    expect(r.corpus).toBeGreaterThanOrEqual(seeds);
    // Kept inputs are written; the committed corpus (the seeds) is not copied there.
    expect(readdirSync(join(dir, 'work')).length).toBe(r.corpus - seeds);
  });

  it('stops at an input that breaks an invariant, and saves it minimized', () => {
    // A "bug": any input holding 0x41 then, later, 0x42.
    const target: FuzzTarget = {
      name: 'planted',
      inputs: findTarget('close-payload').inputs,
      fuzz(data) {
        const a = data.indexOf(0x41);
        if (a >= 0 && data.indexOf(0x42, a + 1) > a) throw new InvariantBroken('0x41 before 0x42');
      },
    };
    const r = guidedFuzz(target, { seconds: 0, runs: 200_000, seed: 7, fresh: true, workDir: join(dir, 'work'), crashDir: join(dir, 'crashes'), log: () => {} });
    expect(r.ok).toBe(false);
    expect(r.execs).toBeLessThan(200_000);
    expect(new Uint8Array(readFileSync(r.crashFile!))).toEqual(bytes(0x41, 0x42));
  });
});

describe('minimize', () => {
  it('removes what the failure does not need, and zeroes the bytes it does not care about', () => {
    const target: FuzzTarget = {
      name: 'planted',
      inputs: findTarget('utf8').inputs,
      fuzz(data) {
        if (data.length >= 3 && data[data.length - 1] === 0xff) throw new InvariantBroken(`ends in 0xff after ${data.length} bytes`);
      },
    };
    const input = bytes(9, 8, 7, 6, 5, 4, 3, 2, 1, 0xff);
    expect(minimize(target, input, new InvariantBroken('ends in 0xff after 10 bytes'))).toEqual(bytes(0, 0, 0xff));
  });
});
