// The package's public entries: the ONE list that the build (rollup.config.mjs), the ESM
// wrappers (scripts/esm-wrappers.mjs), package.json's `exports` and `typesVersions`
// (scripts/sync-exports.mjs, run by `npm run build`) and the packed-package spec read.
// A new entry is one line here; `npm run build` then writes its `exports`/`typesVersions`
// entries into package.json (commit that change too).
//
//   subpath: what users import (`websocket-streams` + subpath)
//   name:    the file name in dist/ (<name>.cjs, <name>.mjs, <name>.d.cts, <name>.d.mts)
//   source:  the TypeScript module that defines the entry's exports
export const entries = [
  { subpath: '.', name: 'index', source: 'lib/index.ts' },
  { subpath: './node', name: 'node', source: 'lib/node/index.ts' },
  { subpath: './sans-io', name: 'sans-io', source: 'lib/sans-io.ts' },
  { subpath: './pubsub', name: 'pubsub', source: 'lib/pubsub/index.ts' },
  { subpath: './websocket-stream', name: 'websocket-stream', source: 'lib/websocket-stream.ts' },
  { subpath: './browser', name: 'browser', source: 'lib/browser/index.ts' },
];

/** package.json's `exports` and `typesVersions` for `entries` (node10 has no `exports`). */
export function packageFields() {
  const exports = {};
  for (const { subpath, name } of entries) {
    exports[subpath] = {
      import: { types: `./dist/${name}.d.mts`, default: `./dist/${name}.mjs` },
      require: { types: `./dist/${name}.d.cts`, default: `./dist/${name}.cjs` },
    };
  }
  exports['./package.json'] = './package.json';
  const typesVersions = { '*': {} };
  for (const { subpath, name } of entries) {
    if (subpath !== '.') typesVersions['*'][subpath.slice(2)] = [`./dist/${name}.d.cts`];
  }
  return { exports, typesVersions };
}
