import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';

// What the browser specs share: lib/ bundled by rollup for the browser (format es, minified
// where a minifier is installed), and headless Chromium launched with the flags the workplace
// requires (Debian's chromium, installed by .ci/run).

const root = resolve(__dirname, '../..');
export const CHROMIUM = '/usr/bin/chromium';
export const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A bundle as a browser would be served it. */
export interface Built {
  code: string;
  imports: string[];
  /** gzip -9 bytes of what a browser would be served. */
  gzipped: number;
}

export type Minify = ((code: string) => string) | undefined;

/** A minifier from node_modules, if one is installed (none is a devDependency). */
export function findMinifier(): { name: string; minify: Minify } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const uglify = require('uglify-js') as { minify(code: string, o: object): { code: string; error?: Error } };
    return {
      name: 'uglify-js',
      minify: (code) => {
        const out = uglify.minify(code, { module: true, compress: true, mangle: true });
        if (out.error) throw out.error;
        return out.code;
      },
    };
  } catch {
    return { name: 'none', minify: undefined };
  }
}

/**
 * A tsconfig in `dir` for bundling: the lib sources only (the project's also holds the specs),
 * emit without type checking (`npx tsc` does that), for the browser.
 */
export function writeBrowserTsconfig(dir: string, files: string[]): string {
  const tsconfig = join(dir, 'tsconfig.json');
  writeFileSync(tsconfig, JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [],
      strict: true, isolatedModules: true, skipLibCheck: true, noCheck: true, declaration: false, sourceMap: false,
    },
    files: files.map((f) => join(root, f)),
  }));
  return tsconfig;
}

/** Bundles the module `source` (its imports resolved from lib/) into one ES module. */
export async function bundleForBrowser(name: string, source: string, tsconfig: string, minify: Minify): Promise<Built> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { rollup } = require('rollup') as typeof import('rollup');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const typescript = require('@rollup/plugin-typescript') as typeof import('@rollup/plugin-typescript');
  const id = `\0browser-entry:${name}`;
  const build = await rollup({
    input: id,
    plugins: [
      { name: 'browser-entry', resolveId: (s) => (s === id ? id : null), load: (s) => (s === id ? source : null) },
      (typescript.default ?? typescript)({ tsconfig, include: [join(root, 'lib/**/*.ts')] }),
    ],
    // An import nothing resolves (a bare package name) stays an import: the specs check.
    onwarn: () => undefined,
  });
  try {
    const { output } = await build.generate({ format: 'es' });
    const chunk = output[0];
    const code = minify ? minify(chunk.code) : chunk.code;
    return { code, imports: [...chunk.imports, ...chunk.dynamicImports], gzipped: gzipSync(code, { level: 9 }).length };
  } finally {
    await build.close();
  }
}

/** `export * from` the given lib/ files, as a user's bundle takes them. */
export function reexport(...files: string[]): string {
  return files.map((f) => `export * from ${JSON.stringify(join(root, f))};`).join('\n');
}

/** Headless Chromium. playwright-core (test tooling) is loaded here, when a spec needs it. */
export async function launchChromium(): Promise<Browser> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  // launch() gives Chromium a fresh temporary --user-data-dir of its own and removes it after.
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}
