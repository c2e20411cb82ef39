import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

// Acceptance: what `npm pack` ships, installed into fresh projects the way users install it.
// Each project type-checks (strict) a small program with the repo's TypeScript and runs it
// with node: serve() on 127.0.0.1:0, connect, echo one message, close. Plus
// @arethetypeswrong/cli on the tarball, ESM/CJS class identity, and source maps.
//
// The work (pack, one npm install, one `tsc -b` of seven projects, six runs, attw) takes ~30-60 s and is done ONCE per build:
// its results are cached in a temp dir keyed by the hash of what is packed (package.json,
// dist/, README, LICENSE, CHANGELOG) and of this file. The jest projects `native` and
// `ponyfill` differ only in the stream classes of the jest process itself; everything here
// runs in child processes on Node's own streams, so the second project reads the first's
// results (a lock file keeps the two from doing the work at the same time).

const root = resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const attw = join(root, 'node_modules/@arethetypeswrong/cli/dist/index.js');
const typeRoot = join(root, 'node_modules/@types');
const run = promisify(execFile);

interface Outcome { ok: boolean; output: string }
interface Results {
  pack: { filename: string; size: number; unpackedSize: number; files: string[]; ms: number };
  installMs: number;
  projects: Record<string, { diagnostics: string[]; run: Outcome; ms: number }>;
  probe: string[];
  tscMs: number;
  attw: Outcome & { problems: unknown[]; ms: number };
  identity: Outcome;
  maps: { file: string; sources: number; withContent: number }[];
  stack: Outcome;
  totalMs: number;
}

/** The consumer program, importing from both entries (same text for every project). */
const PROGRAM = `import { Connection, WebSocketError, type CloseInfo } from 'websocket-streams';
import { serve, connect, type WebSocketServerHandle } from 'websocket-streams/node';

async function main(): Promise<void> {
  const server: WebSocketServerHandle = await serve({ host: '127.0.0.1', port: 0 }, async (conn: Connection) => {
    for await (const msg of conn) await conn.send(await msg.text());
  });
  const client = await connect(server.url);
  if (!(client instanceof Connection)) throw new Error('connect() did not give a Connection');
  await client.send('hello packed package');
  const echo = await (await client.nextMessage())!.text();
  const info: CloseInfo = await client.close(1000, 'done');
  await server.close();
  const isError: boolean = new WebSocketError('x', { kind: 'CLOSED', closeCode: 1000 }) instanceof Error;
  console.log(JSON.stringify({ echo, code: info.code, isError }));
}
main().catch((err: unknown) => { console.error(err); process.exit(1); });
`;

/**
 * A default import must not type-check where Node refuses it: an ES module importing the package
 * (it has no default export). A CJS-mode file under esModuleInterop may still write one, since
 * TypeScript cannot tell a CJS declaration file's `__esModule` (the value is then undefined).
 */
const DEFAULT_IMPORT = `import ws from 'websocket-streams';\nexport const x: unknown = ws;\n`;

/** The project (ESM, nodenext) that only holds DEFAULT_IMPORT. */
const PROBE = 'default-import-esm';

/** Resolution modes: package type and tsconfig module settings. */
const PROJECTS: Record<string, { type: 'commonjs' | 'module'; module: string; moduleResolution: string }> = {
  'node10-cjs': { type: 'commonjs', module: 'commonjs', moduleResolution: 'node10' },
  'node16-cjs': { type: 'commonjs', module: 'node16', moduleResolution: 'node16' },
  'node16-esm': { type: 'module', module: 'node16', moduleResolution: 'node16' },
  'nodenext-cjs': { type: 'commonjs', module: 'nodenext', moduleResolution: 'nodenext' },
  'nodenext-esm': { type: 'module', module: 'nodenext', moduleResolution: 'nodenext' },
  'bundler-esm': { type: 'module', module: 'esnext', moduleResolution: 'bundler' },
};

/** `import` and `require` of the installed package give the same classes, and errors thrown by one are instances of the other's. */
const IDENTITY = `import * as esm from 'websocket-streams';
import * as esmNode from 'websocket-streams/node';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const cjs = require('websocket-streams');
const cjsNode = require('websocket-streams/node');
const same = ['Connection', 'WebSocketError', 'InvalidStateError', 'HandshakeError', 'IncomingMessage']
  .filter((n) => !(esm[n] === cjs[n] && esmNode[n] === cjs[n] && cjsNode[n] === cjs[n]));
if (same.length) throw new Error('two copies of: ' + same.join(', '));
if ('default' in esm) throw new Error('the ESM entry has a default export');
const server = await cjsNode.serve({ host: '127.0.0.1', port: 0 }, async (conn) => { await conn.send(new Uint8Array(100000)); });
const client = await cjsNode.connect(server.url);             // made by the CJS build
if (!(client instanceof esm.Connection)) throw new Error('a required Connection is not instanceof the imported class');
const msg = await client.nextMessage();
await client.close();                                          // a local close discards the unread message
const err = await msg.bytes().then(() => undefined, (e) => e);
if (!(err instanceof esm.WebSocketError)) throw new Error('a WebSocketError from require is not instanceof the imported class: ' + err);
const late = await client.send('late').then(() => undefined, (e) => e);
if (!(late instanceof esm.InvalidStateError)) throw new Error('InvalidStateError from require is not instanceof the imported class: ' + late);
await server.close();
console.log('one copy');
`;

/** Throws from inside the package (a URL the client refuses) under --enable-source-maps. */
const STACK = `try { require('websocket-streams/sans-io').parseWebSocketUrl('ftp://example.com/'); } catch (err) { console.log(err.stack); }`;

function cacheKey(): string {
  const h = createHash('sha256');
  const files = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', ...readdirSync(join(root, 'dist'), { recursive: true }).map((f) => join('dist', String(f)))];
  for (const f of files.sort()) {
    const p = join(root, f);
    if (!existsSync(p) || statSync(p).isDirectory()) continue;
    h.update(f).update('\0').update(readFileSync(p)).update('\0');
  }
  h.update(readFileSync(__filename));
  return h.digest('hex').slice(0, 16);
}

const outcome = async (file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Outcome> => {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env, encoding: 'utf8', timeout: 90_000, maxBuffer: 16 * 1024 * 1024 });
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message };
  }
};

/** At most `limit` at a time (2 cores). */
async function pool<T>(jobs: (() => Promise<T>)[], limit = 2): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < jobs.length) { const i = next++; out[i] = await jobs[i]!(); }
  }));
  return out;
}

async function packAndCheck(dir: string): Promise<Results> {
  const t0 = Date.now();
  // dist/ is fresh (npm test builds, the key covers it): pack without running prepack's build again.
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const packed = JSON.parse(execFileSync(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }))[0];
  const tarball = join(dir, packed.filename);
  const packMs = Date.now() - t0;

  // One install; each project is a folder below it (node and tsc find ../node_modules).
  const consumers = join(dir, 'consumers');
  mkdirSync(consumers);
  writeFileSync(join(consumers, 'package.json'), JSON.stringify({ name: 'consumers', private: true }));
  const t1 = Date.now();
  execFileSync(npm, ['install', tarball, '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline', '--no-package-lock'], { cwd: consumers, encoding: 'utf8' });
  const installMs = Date.now() - t1;

  // One `tsc -b` for all projects (a process each would parse @types/node six times over).
  const t = Date.now();
  const names = [...Object.keys(PROJECTS), PROBE];
  for (const name of names) {
    const p = PROJECTS[name] ?? { type: 'module', module: 'nodenext', moduleResolution: 'nodenext' };
    const cwd = join(consumers, name);
    mkdirSync(cwd);
    writeFileSync(join(cwd, 'package.json'), JSON.stringify({ name, private: true, type: p.type }));
    writeFileSync(join(cwd, 'main.ts'), name === PROBE ? DEFAULT_IMPORT : PROGRAM);
    writeFileSync(join(cwd, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, target: 'ES2022', lib: ['ES2022'], module: p.module, moduleResolution: p.moduleResolution,
        typeRoots: [typeRoot], types: ['node'], outDir: 'out', skipLibCheck: false, esModuleInterop: true, ignoreDeprecations: '6.0',
      },
      files: ['main.ts'],
    }));
  }
  const t2 = Date.now();
  const attwRun = outcome(process.execPath, [attw, tarball, '--format', 'json'], dir).then((o) => ({ ...o, ms: Date.now() - t2 })); // alongside tsc (2 cores)
  const built = await outcome(process.execPath, [tsc, '-b', ...names, '--pretty', 'false'], consumers);
  const tscMs = Date.now() - t;
  const diagnostics = (name: string): string[] => built.output.split('\n').filter((l) => l.startsWith(`${name}/`) || (l.includes('error TS') && !names.some((n) => l.startsWith(`${n}/`))));
  const projects: Results['projects'] = {};
  await pool(Object.keys(PROJECTS).map((name) => async () => {
    const t0 = Date.now();
    projects[name] = { diagnostics: diagnostics(name), run: await outcome(process.execPath, [join(consumers, name, 'out/main.js')], consumers), ms: Date.now() - t0 };
  }));
  const probe = diagnostics(PROBE);

  const a = await attwRun;
  let problems: unknown[] = [{ unparsed: a.output.slice(0, 2000) }];
  try { problems = JSON.parse(a.output.slice(a.output.indexOf('{'))).analysis.problems; } catch { /* kept as unparsed */ }

  writeFileSync(join(consumers, 'identity.mjs'), IDENTITY);
  const identity = await outcome(process.execPath, ['identity.mjs'], consumers);

  const installed = join(consumers, 'node_modules', pkg.name);
  const maps = readdirSync(join(installed, 'dist'), { recursive: true }).map(String).filter((f) => f.endsWith('.map')).map((f) => {
    const m = JSON.parse(readFileSync(join(installed, 'dist', f), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
    return { file: f, sources: m.sources.length, withContent: (m.sourcesContent ?? []).filter((c) => typeof c === 'string' && c.length > 0).length };
  });
  const stack = await outcome(process.execPath, ['--enable-source-maps', '-e', STACK], consumers);

  return {
    pack: { filename: packed.filename, size: packed.size, unpackedSize: packed.unpackedSize, files: packed.files.map((f: { path: string }) => f.path), ms: packMs },
    installMs, projects, probe, tscMs, attw: { ...a, problems }, identity, maps, stack, totalMs: Date.now() - t0,
  };
}

/** Results for this build: computed here, or read from the cache (waiting for another jest project doing the work). */
async function results(): Promise<Results> {
  const base = join(tmpdir(), `websocket-streams-packed-${cacheKey()}`);
  // Earlier builds' caches (about 400 KiB each): gone after a day unused.
  for (const old of readdirSync(tmpdir()).filter((f) => /^websocket-streams-packed-[0-9a-f]{16}$/.test(f))) {
    const dir = join(tmpdir(), old);
    try { if (dir !== base && Date.now() - statSync(dir).mtimeMs > 86_400_000) rmSync(dir, { recursive: true, force: true }); } catch { /* another run's */ }
  }
  const file = join(base, 'results.json');
  const lock = `${base}.lock`;
  const deadline = Date.now() + 170_000;
  for (;;) {
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Results;
    let fd: number | undefined;
    try { fd = openSync(lock, 'wx'); } catch {
      // Someone else is at it; a lock older than 3 minutes belongs to a run that died.
      try { if (Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { force: true }); } catch { /* gone meanwhile */ }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    try {
      rmSync(base, { recursive: true, force: true });
      mkdirSync(base, { recursive: true });
      const r = await packAndCheck(base);
      rmSync(join(base, 'consumers'), { recursive: true, force: true }); // keep the cache small: results and tarball
      writeFileSync(file, JSON.stringify(r));
      return r;
    } finally {
      closeSync(fd);
      rmSync(lock, { force: true });
    }
  }
}

describe('packed package (npm pack, installed into fresh projects)', () => {
  let r: Results;
  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/index.mjs'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
    r = await results();
    const mode = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
    console.log(`packed ${r.pack.filename}: ${r.pack.files.length} files, ${(r.pack.size / 1024).toFixed(1)} KiB packed, ` +
      `${(r.pack.unpackedSize / 1024).toFixed(1)} KiB unpacked; pack ${mode(r.pack.ms)}, install ${mode(r.installMs)}, attw ${mode(r.attw.ms)}, ` +
      `tsc -b of ${Object.keys(r.projects).length + 1} projects ${mode(r.tscMs)}, runs ${Object.entries(r.projects).map(([n, p]) => `${n} ${mode(p.ms)}`).join(', ')}; all ${mode(r.totalMs)} (cached per build)`);
  }, 180_000);

  it('ships dist/, README, LICENSE and CHANGELOG and no sources or specs', () => {
    expect(r.pack.files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/index.cjs', 'dist/index.mjs', 'dist/index.d.cts', 'dist/index.d.mts', 'dist/node.cjs', 'dist/node.mjs', 'dist/node.d.cts', 'dist/node.d.mts', 'dist/cli.cjs']));
    expect(r.pack.files.filter((f) => !/^(dist\/|package\.json$|README\.md$|LICENSE$|CHANGELOG\.md$)/.test(f))).toEqual([]);
  });

  it.each(Object.keys(PROJECTS))('%s: type-checks strictly and runs the echo program', (name) => {
    const p = r.projects[name]!;
    expect(p.diagnostics).toEqual([]);
    expect(p.run).toEqual({ ok: true, output: expect.any(String) });
    expect(JSON.parse(p.run.output)).toEqual({ echo: 'hello packed package', code: 1000, isError: true });
  });

  it('an ES module\'s default import is refused by TypeScript, as Node refuses it (no CJS types masquerading as ESM)', () => {
    expect(r.probe).toEqual([expect.stringMatching(/^default-import-esm\/main\.ts\(1,8\): error TS1192: Module '"[^"]*"' has no default export/)]);
  });

  it('@arethetypeswrong/cli finds no problem in any entry (node10, node16 CJS/ESM, bundler)', () => {
    expect(r.attw.problems).toEqual([]);
    expect(r.attw.ok).toBe(true);
  });

  it('import and require share one implementation: classes are identical, errors instanceof across both', () => {
    expect(r.identity).toEqual({ ok: true, output: 'one copy\n' });
  });

  it('source maps carry the TypeScript sources they name', () => {
    expect(r.maps.length).toBeGreaterThan(0);
    for (const m of r.maps) expect(m).toEqual({ file: m.file, sources: m.sources, withContent: m.sources });
  });

  it('a stack trace through dist/ (node --enable-source-maps) names the real lib/ source line', () => {
    expect(r.stack.ok).toBe(true);
    const at = r.stack.output.match(/lib\/handshake\/client-handshake\.ts:(\d+):\d+/);
    expect(at).not.toBeNull();
    const line = readFileSync(join(root, 'lib/handshake/client-handshake.ts'), 'utf8').split('\n')[Number(at![1]) - 1];
    expect(line).toMatch(/throw new SyntaxError\(`A WebSocket URL must use ws: or wss:/);
  });
});
