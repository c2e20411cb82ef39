import typescript from '@rollup/plugin-typescript';
import { dts } from 'rollup-plugin-dts';

// Two entry points: the runtime-neutral core and the Node adapter. The Node entry imports
// the core through a relative path, so rollup shares one chunk between them instead of
// bundling the core twice (a Connection made by the Node adapter must be `instanceof` the
// core's Connection).
const input = { index: 'lib/index.ts', 'sans-io': 'lib/sans-io.ts', node: 'lib/node/index.ts', cli: 'lib/node/cli.ts' };
const external = (id) => id.startsWith('node:') || id === 'web-streams-polyfill' || id === 'ws';

// The CLI is the package's `bin`: it needs a shebang, the library entries must not have one.
const banner = (chunk) => (chunk.isEntry && chunk.name === 'cli' ? '#!/usr/bin/env node' : '');

const ts = () =>
  typescript({
    tsconfig: './tsconfig.json',
    compilerOptions: { declaration: false, sourceMap: true, outDir: 'dist', rootDir: 'lib' },
  });

export default [
  {
    input,
    external,
    plugins: [ts()],
    output: [
      { dir: 'dist', format: 'es', entryFileNames: '[name].mjs', chunkFileNames: 'chunks/[name]-[hash].mjs', sourcemap: true, banner },
      { dir: 'dist', format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'chunks/[name]-[hash].cjs', sourcemap: true, exports: 'named', banner },
    ],
  },
  {
    input: { index: 'lib/index.ts', 'sans-io': 'lib/sans-io.ts', node: 'lib/node/index.ts' },
    external,
    plugins: [dts({ tsconfig: './tsconfig.json', compilerOptions: { rootDir: 'lib', stripInternal: true } })],
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].d.ts', chunkFileNames: 'chunks/[name]-[hash].d.ts' },
  },
];
