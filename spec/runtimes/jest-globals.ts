// Jest's globals for runtimes without jest (Deno, and Bun outside `bun test`), so that the spec
// files run there unchanged.
// The parts that decide whether a test passes are jest's own packages: `expect` (every matcher,
// asymmetric matchers, `.resolves`/`.rejects`), `jest-each` (`it.each`/`describe.each` and
// their title formatting, so names match jest's) and `jest-mock` (`jest.fn`, `jest.spyOn`).
// Only collecting and running the tests is written here (see runTests).
import { createRequire } from 'node:module';

// The three are CommonJS marked __esModule, whose named exports Bun's ESM view gets wrong
// (`bind` of jest-each comes out as Function.prototype.bind, `expect` as undefined): they are
// taken through require, which every runtime reads alike.
const require = createRequire(import.meta.url);
const { expect } = require('expect') as typeof import('expect');
const { bind: bindEach } = require('jest-each') as typeof import('jest-each');
const { ModuleMocker } = require('jest-mock') as typeof import('jest-mock');

type TestFn = () => unknown;

interface Block {
  name: string;
  parent: Block | undefined;
  children: (Block | Test)[];
  beforeAll: TestFn[];
  afterAll: TestFn[];
  beforeEach: TestFn[];
  afterEach: TestFn[];
}

interface Test {
  name: string;
  fn: TestFn;
  timeout: number | undefined;
  parent: Block;
}

/** One test's outcome, named as jest and bun name it: the describe titles and the test title joined by ' > '. */
export interface TestResult {
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  error?: string;
  ms: number;
}

/** Jest's default is 5 s; this repository's jest config sets 60 s (package.json "testTimeout"). */
const DEFAULT_TIMEOUT = 60_000;

const newBlock = (name: string, parent: Block | undefined): Block =>
  ({ name, parent, children: [], beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] });

let root = newBlock('', undefined);
let current = root;

/**
 * `.skip`, `.only`, `.todo` and the `x`/`f` aliases are refused: a skipped, focused or deferred
 * test would hide behaviour from the runtime it runs in (spec/package/no-skipped-tests.spec.ts
 * keeps them out of the spec files for jest too). What a runtime leaves out is one list, checked by
 * spec/runtimes/runtimes.spec.ts (the runner's filter), not a mark in a spec file.
 */
function refused(what: string) {
  const fail = (): never => {
    throw new Error(`${what} is refused by the runtimes runner: list a test that must not run here in spec/runtimes/runtimes.spec.ts`);
  };
  return Object.assign(fail, { each: fail });
}

function describeBlock(name: string, fn: () => void): void {
  const block = newBlock(String(name), current);
  current.children.push(block);
  const outer = current;
  current = block;
  try {
    const returned: unknown = fn();
    if (returned !== undefined) throw new TypeError(`describe('${name}') returned a value: tests must be defined synchronously`);
  } finally {
    current = outer;
  }
}

function defineTest(name: string, fn?: TestFn, timeout?: number): void {
  // A test without a body is a `test.todo` by another name: refused like it.
  if (fn === undefined) refused(`test('${name}') without a body`)();
  current.children.push({ name: String(name), fn: fn!, timeout, parent: current });
}

function makeDescribe() {
  return Object.assign(describeBlock, {
    skip: refused('describe.skip'),
    only: refused('describe.only'),
    each: bindEach(describeBlock, false),
  });
}

function makeTest() {
  return Object.assign(defineTest, {
    skip: refused('test.skip'),
    only: refused('test.only'),
    todo: refused('test.todo'),
    each: bindEach(defineTest),
  });
}

const mocker = new ModuleMocker(globalThis);

/** Puts describe/it/test/hooks/expect/jest on globalThis, as jest does for a spec file. */
export function installJestGlobals(): void {
  const g = globalThis as Record<string, unknown>;
  const test = makeTest();
  const describe = makeDescribe();
  Object.assign(g, {
    describe, test, it: test,
    xdescribe: refused('xdescribe'), xit: refused('xit'), xtest: refused('xtest'), fit: refused('fit'), fdescribe: refused('fdescribe'),
    beforeAll: (fn: TestFn) => void current.beforeAll.push(fn),
    afterAll: (fn: TestFn) => void current.afterAll.push(fn),
    beforeEach: (fn: TestFn) => void current.beforeEach.push(fn),
    afterEach: (fn: TestFn) => void current.afterEach.push(fn),
    expect,
    jest: {
      fn: mocker.fn.bind(mocker),
      spyOn: mocker.spyOn.bind(mocker),
      clearAllMocks: () => mocker.clearAllMocks(),
      resetAllMocks: () => mocker.resetAllMocks(),
      restoreAllMocks: () => mocker.restoreAllMocks(),
      setTimeout: (ms: number) => { defaultTimeout = ms; },
    },
  });
}

let defaultTimeout = DEFAULT_TIMEOUT;

/** Starts collecting a new spec file: a fresh root block, as jest gives each file. */
export function beginFile(): void {
  root = newBlock('', undefined);
  current = root;
  defaultTimeout = DEFAULT_TIMEOUT;
}

/** Errors the runtime reports outside any await of a test (unhandled rejections), failing the test that runs. */
const stray: unknown[] = [];

/** Records an error no test awaited; the running test fails with it, as under jest. */
export function reportStrayError(error: unknown): void {
  stray.push(error);
}

const describeError = (error: unknown): string =>
  error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);

/** Runs `fn`, failing after `ms` milliseconds; the timer is cleared either way. */
async function withTimeout(fn: TestFn, ms: number, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([Promise.resolve().then(fn), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

const titleOf = (test: Test): string => {
  const parts = [test.name];
  for (let b: Block | undefined = test.parent; b && b.parent; b = b.parent) parts.unshift(b.name);
  return parts.join(' > ');
};

const chain = (block: Block): Block[] => {
  const out: Block[] = [];
  for (let b: Block | undefined = block; b; b = b.parent) out.unshift(b);
  return out;
};

/**
 * Runs the tests collected since `beginFile()` in definition order, with jest's hook order
 * (beforeAll once per block before its first test, beforeEach outer to inner, afterEach inner
 * to outer, afterAll after its last test), and returns one result per test.
 */
export async function runTests(filter: (name: string) => boolean): Promise<TestResult[]> {
  const results: TestResult[] = [];
  const visit = async (block: Block): Promise<void> => {
    let beforeAllError: unknown;
    let ranBeforeAll = false;
    for (const child of block.children) {
      if ('children' in child) {
        await visit(child);
        continue;
      }
      const name = titleOf(child);
      // Left out by the runner's list of what must not run in this runtime.
      if (!filter(name)) {
        results.push({ name, status: 'skipped', ms: 0 });
        continue;
      }
      const started = Date.now();
      const errors: unknown[] = [];
      if (!ranBeforeAll) {
        ranBeforeAll = true;
        try {
          for (const fn of block.beforeAll) await withTimeout(fn, defaultTimeout, 'beforeAll');
        } catch (error) {
          beforeAllError = error;
        }
      }
      if (beforeAllError !== undefined) errors.push(beforeAllError);
      else {
        const blocks = chain(block);
        try {
          for (const b of blocks) for (const fn of b.beforeEach) await withTimeout(fn, defaultTimeout, 'beforeEach');
          await withTimeout(child.fn, child.timeout ?? defaultTimeout, 'Test');
        } catch (error) {
          errors.push(error);
        }
        for (const b of blocks.reverse()) {
          for (const fn of b.afterEach) {
            try {
              await withTimeout(fn, defaultTimeout, 'afterEach');
            } catch (error) {
              errors.push(error);
            }
          }
        }
      }
      // Give rejections the runtime reports a turn to arrive, so they fail this test, not the next.
      await new Promise((resolve) => setTimeout(resolve, 0));
      errors.push(...stray.splice(0));
      results.push(errors.length === 0
        ? { name, status: 'passed', ms: Date.now() - started }
        : { name, status: 'failed', error: errors.map(describeError).join('\n---\n'), ms: Date.now() - started });
    }
    if (ranBeforeAll) {
      for (const fn of block.afterAll) {
        try {
          await withTimeout(fn, defaultTimeout, 'afterAll');
        } catch (error) {
          results.push({ name: `${chain(block).slice(1).map((b) => b.name).join(' > ')} > afterAll`, status: 'failed', error: describeError(error), ms: 0 });
        }
      }
    }
  };
  await visit(root);
  return results;
}
