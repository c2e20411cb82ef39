import typescript from '@rollup/plugin-typescript';
import { dts } from 'rollup-plugin-dts';
import { entries } from './scripts/entries.mjs';

// One implementation, CommonJS: every entry of scripts/entries.mjs plus the CLI (`bin`).
// Entries import the core through relative paths, so rollup shares chunks between them
// instead of bundling the core twice (a Connection made by the Node adapter must be
// `instanceof` the core's Connection). The ESM entries (dist/<name>.mjs) are thin wrappers
// that re-export the CJS build, written after rollup by scripts/esm-wrappers.mjs: one copy of
// every class whether the package is imported or required (no dual-package hazard).
const input = Object.fromEntries(entries.map((e) => [e.name, e.source]));
// `redis` (the pubsub entry's optional peer dependency) is the user's own copy, never bundled.
const external = (id) => id.startsWith('node:') || id === 'ws' || id === 'redis' || id.startsWith('@redis/');

// The CLI is the package's `bin`: it needs a shebang, the library entries must not have one.
const banner = (chunk) => (chunk.isEntry && chunk.name === 'cli' ? '#!/usr/bin/env node' : '');

const ts = () =>
  typescript({
    tsconfig: './tsconfig.json',
    // inlineSources: the maps carry lib/*.ts themselves (sourcesContent); lib/ is not shipped.
    compilerOptions: { declaration: false, sourceMap: true, inlineSources: true, outDir: 'dist', rootDir: 'lib' },
  });

export default [
  {
    input: { ...input, cli: 'lib/node/cli.ts' },
    external,
    plugins: [ts()],
    output: {
      dir: 'dist', format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'chunks/[name]-[hash].cjs',
      sourcemap: true, sourcemapExcludeSources: false, exports: 'named', banner,
    },
  },
  {
    // Declarations for `require` (CJS-flavoured .d.cts); the .d.mts of each entry re-exports its .d.cts.
    input,
    external,
    plugins: [dts({ tsconfig: './tsconfig.json', compilerOptions: { rootDir: 'lib', stripInternal: true } })],
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].d.cts', chunkFileNames: 'chunks/[name]-[hash].d.cts' },
  },
];
