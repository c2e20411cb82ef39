import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

// No spec file skips, focuses or defers a test: under jest, `.skip` and `.todo` pass as
// "skipped" and `.only` silently drops the rest of its file, each hiding behaviour nobody checks.
// A test that must not run somewhere is listed where it is checked (the Deno/Bun runner's list
// in spec/runtimes/runtimes.spec.ts), not marked in a spec. The runtimes runner refuses these
// marks too (spec/runtimes/jest-globals.ts); this catches them for jest.

const specRoot = resolve(__dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(?:ts|mts|cts|js|mjs|cjs)$/.test(e.name) ? [p] : [];
  });
}

/** `describe.skip(`, `test.only.each(`, `it.todo(`, `xit(`, `fdescribe(` and the like. */
const MARKED = /\b(?:describe|it|test)\.(?:skip|only|todo)(?:\.each\s*[(`]|\s*\()|\b(?:xdescribe|xit|xtest|fdescribe|fit)\s*\(/;

describe('spec files', () => {
  test('the pattern finds every kind of mark (it cannot pass by matching nothing)', () => {
    const marks = ['describe.skip(', 'describe.only(', 'test.skip(', 'test.only(', 'it.only(', 'test.todo(', 'it.skip.each(', 'test.only.each`', 'xit(', 'xtest(', 'xdescribe(', 'fit(', 'fdescribe('];
    for (const m of marks) expect([m, MARKED.test(`  ${m}'name', () => {})`)]).toEqual([m, true]);
    for (const ok of ['test(', 'describe.each(', 'it.each(', 'this.skip(', 'exit(', 'profit(']) expect([ok, MARKED.test(`  ${ok}x)`)]).toEqual([ok, false]);
  });

  test('skip, focus or defer no test', () => {
    // This file names the marks it looks for, so it is the one file not read.
    const files = sourceFiles(specRoot).filter((f) => f !== __filename);
    expect(files.length).toBeGreaterThan(100);
    const marked = files.flatMap((f) => readFileSync(f, 'utf8').split('\n')
      .map((line, i) => (MARKED.test(line) ? `${relative(specRoot, f)}:${i + 1}: ${line.trim()}` : null))
      .filter((x): x is string => x !== null));
    expect(marked).toEqual([]);
  });
});
