import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

// These check what users install: the rollup output in dist/ (npm test builds it first).
const root = resolve(__dirname, '../..');
const dist = join(root, 'dist');
const runNode = (code: string, type: 'module' | 'commonjs'): string =>
  execFileSync(process.execPath, [type === 'module' ? '--input-type=module' : '--input-type=commonjs', '-e', code], {
    cwd: root,
    encoding: 'utf8',
  });

/** Every file a bundle entry pulls in through relative imports (its chunks). */
function moduleClosure(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/(?:from|import|require\()\s*['"](\.[^'"]+)['"]/g)) visit(resolve(dirname(file), m[1]!));
  };
  visit(entry);
  return [...seen];
}

describe('package bundles', () => {
  beforeAll(() => {
    if (!existsSync(join(dist, 'index.mjs'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
  });

  it('bundle ESM and CJS builds of the core export the same public names', () => {
    const esm = JSON.parse(runNode(`import * as m from 'websocket-streams'; console.log(JSON.stringify(Object.keys(m).sort()))`, 'module'));
    const cjs = JSON.parse(runNode(`console.log(JSON.stringify(Object.keys(require('websocket-streams')).sort()))`, 'commonjs'));
    expect(esm).toEqual(cjs);
    expect(esm).toEqual(expect.arrayContaining(['Connection', 'CloseCode', 'Opcode']));
  });

  it('bundle of the Node entry loads as ESM and CJS and re-exports the core', () => {
    const esm = JSON.parse(runNode(`import * as m from 'websocket-streams/node'; console.log(JSON.stringify(Object.keys(m).sort()))`, 'module'));
    const cjs = JSON.parse(runNode(`console.log(JSON.stringify(Object.keys(require('websocket-streams/node')).sort()))`, 'commonjs'));
    expect(esm).toEqual(cjs);
    expect(esm).toEqual(expect.arrayContaining(['Connection', 'serve', 'connect']));
  });

  it('bundle of the core, the sans-I/O and the WebSocketStream entries contains no node: import in any chunk it loads', () => {
    for (const entry of ['index.mjs', 'index.cjs', 'sans-io.mjs', 'sans-io.cjs', 'websocket-stream.mjs', 'websocket-stream.cjs']) {
      for (const file of moduleClosure(join(dist, entry))) {
        const src = readFileSync(file, 'utf8');
        expect({ file, nodeImports: src.match(/['"]node:[a-z_/]+['"]/g) ?? [] }).toEqual({ file, nodeImports: [] });
      }
    }
  });

  it('bundle type declarations exist for the four entry points, per module format', () => {
    const dts = readFileSync(join(dist, 'index.d.cts'), 'utf8');
    expect(dts).toMatch(/declare class Connection/);
    expect(existsSync(join(dist, 'node.d.cts'))).toBe(true);
    expect(readFileSync(join(dist, 'sans-io.d.cts'), 'utf8')).toMatch(/declare class Protocol\b|\bas Protocol\b/);
    // The ESM declarations re-export the CJS ones: import and require see the same classes.
    expect(readFileSync(join(dist, 'websocket-stream.d.cts'), 'utf8')).toMatch(/declare class WebSocketStream\b|\bas WebSocketStream\b/);
    for (const name of ['index', 'node', 'sans-io', 'websocket-stream']) expect(readFileSync(join(dist, `${name}.d.mts`), 'utf8')).toMatch(new RegExp(`^export \\* from './${name}\\.cjs';$`, 'm'));
  });

  it('bundle entries: package.json `exports` and `typesVersions` follow scripts/entries.mjs', () => {
    expect(() => execFileSync(process.execPath, [join(root, 'scripts/sync-exports.mjs'), '--check'], { cwd: root, stdio: 'pipe' })).not.toThrow();
  });

  it('bundle ESM entries are wrappers of the CJS build: one copy of every class', () => {
    const same = runNode(`import * as m from 'websocket-streams/node'; import { createRequire } from 'node:module';
      const r = createRequire(import.meta.url)('websocket-streams');
      console.log(m.Connection === r.Connection && m.WebSocketError === r.WebSocketError)`, 'module');
    expect(same.trim()).toBe('true');
  });
});
