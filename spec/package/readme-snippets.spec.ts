import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { codeBlocks, type CodeBlock } from '../helpers/markdown-code-blocks';

// Every TypeScript/JavaScript block of README.md is a complete module that users can paste:
// all blocks are type-checked together (strict, nodenext, the package resolved to itself through
// its `exports`, i.e. to dist/), and the runnable ones are run with node. The convention is in
// the README's "README snippets" section:
//   ```ts          a complete module, type-checked
//   ```ts run      also run; must exit 0 by itself. PORT = a loopback echo server (ws) to use
//   ```ts serve    also run with PORT=0; must print `listening on ws://…` and echo what it
//                  receives: the harness checks one echo, then ends it
// Blocks in other languages (sh, text, …) are not checked. Needs `npm run build` (npm test does it).

const root = resolve(__dirname, '../..');
const readmePath = join(root, 'README.md');
const tsc = join(root, 'node_modules/typescript/bin/tsc');

/** The languages that are checked, and the extension each block's file gets. */
const LANGS: Record<string, '.mts' | '.mjs'> = {
  ts: '.mts', typescript: '.mts', mts: '.mts', js: '.mjs', javascript: '.mjs', mjs: '.mjs',
};
const MODES = ['run', 'serve'] as const;
type Mode = (typeof MODES)[number];

/** A run's safety net only: the programs end on their own, in well under a second each. */
const RUN_LIMIT_MS = 20_000;

interface Snippet extends CodeBlock {
  /** What the harness does with it beyond type-checking. */
  mode: Mode | undefined;
  /** The block's source file (in the temp dir) and the compiled one. */
  source: string;
  compiled: string;
}

const checked = codeBlocks(readFileSync(readmePath, 'utf8')).filter((b) => b.lang in LANGS);

/** `README.md:<line of the first code line>` plus what the block is. */
function where(b: CodeBlock): string {
  return `README.md:${b.fenceLine + 1} (\`\`\`${[b.lang, ...b.flags].join(' ')})`;
}

/** A README line for a diagnostic at `line` (1-based) of a block's file. */
function readmeLine(b: CodeBlock, line: number): number {
  return b.fenceLine + line;
}

let dir = '';
let snippets: Snippet[] = [];
/** tsc's diagnostics per block source file; '' for a block without any. */
const diagnostics = new Map<string, string[]>();
let tscMs = 0;
let echo: WebSocketServer;
let echoPort = 0;

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/node.mjs'))) throw new Error('dist/ is missing: run `npm run build` first');
  // Inside the repo, so that `websocket-streams` resolves to this package (self-reference).
  mkdirSync(join(root, '.tmp'), { recursive: true });
  dir = mkdtempSync(join(root, '.tmp/readme-snippets-'));
  snippets = checked.map((b) => {
    const name = `readme-line-${b.fenceLine + 1}${LANGS[b.lang]}`;
    return {
      ...b,
      mode: MODES.find((m) => b.flags.includes(m)),
      source: join(dir, 'src', name),
      compiled: join(dir, 'out', name.replace(/\.mts$/, '.mjs')),
    };
  });
  mkdirSync(join(dir, 'src'));
  for (const s of snippets) writeFileSync(s.source, s.code);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['ES2022'],
      strict: true, types: ['node'], typeRoots: [join(root, 'node_modules/@types')],
      allowJs: true, checkJs: true, skipLibCheck: true,
      rootDir: 'src', outDir: 'out', noEmitOnError: false, pretty: false,
    },
    include: ['src'],
  }));
  // ONE tsc run for all blocks: diagnostics of every file, and the JS to run.
  const started = Date.now();
  const output = await new Promise<string>((done) => {
    execFile(process.execPath, [tsc, '-p', dir], { cwd: dir, maxBuffer: 16 << 20 }, (_err, stdout, stderr) => done(stdout + stderr));
  });
  tscMs = Date.now() - started;
  // `src/readme-line-12.mts(3,7): error TS2304: Cannot find name 'conn'.` plus continuation lines
  let current: string[] | undefined;
  for (const line of output.split('\n')) {
    const m = /^(.*?)\((\d+),(\d+)\): (error .*)$/.exec(line);
    if (m !== null) {
      const s = snippets.find((x) => resolve(dir, m[1]!) === x.source);
      current = [];
      if (s === undefined) diagnostics.set(`tsc: ${line}`, current);
      else {
        const list = diagnostics.get(s.source) ?? [];
        diagnostics.set(s.source, list);
        current = list;
      }
      current.push(`README.md:${s === undefined ? '?' : readmeLine(s, Number(m[2]))}:${m[3]} ${m[4]}`);
    } else if (line.trim() !== '' && current !== undefined) current.push(line);
    else if (line.trim() !== '') diagnostics.set(`tsc: ${line}`, []);
  }
  echo = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  echo.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((ok) => echo.once('listening', ok));
  echoPort = (echo.address() as AddressInfo).port;
}, 120_000);

afterAll(async () => {
  await new Promise<void>((done) => (echo ? echo.close(() => done()) : done()));
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  // Seen in the jest output: the budget for this spec's one tsc run is 30 s.
  console.log(`readme-snippets: ${snippets.length} blocks type-checked in one tsc run of ${tscMs} ms`);
});

describe('README.md code blocks', () => {
  it('has TypeScript blocks to check, and runnable ones', () => {
    expect(checked.length).toBeGreaterThan(0);
    expect(checked.some((b) => b.flags.includes('run'))).toBe(true);
  });

  it.each(checked.map((b) => [where(b), b] as const))('%s uses only known flags', (_name, b) => {
    const unknown = b.flags.filter((f) => !(MODES as readonly string[]).includes(f));
    expect(unknown).toEqual([]);
  });

  it('tsc reports nothing outside the blocks (its configuration works)', () => {
    const stray = [...diagnostics.keys()].filter((k) => k.startsWith('tsc: '));
    expect(stray).toEqual([]);
  });

  it.each(checked.map((b) => [where(b), b] as const))('%s type-checks (strict)', (_name, b) => {
    const s = snippets.find((x) => x.fenceLine === b.fenceLine)!;
    const found = diagnostics.get(s.source) ?? [];
    if (found.length > 0) throw new Error(`${where(b)} does not type-check:\n${found.join('\n')}`);
  });

  const runnable = checked.filter((b) => b.flags.includes('run'));
  if (runnable.length > 0) it.each(runnable.map((b) => [where(b), b] as const))('%s runs and exits 0 by itself', async (_name, b) => {
    const s = snippets.find((x) => x.fenceLine === b.fenceLine)!;
    const result = await runToEnd(s, { PORT: String(echoPort) });
    if (result.code !== 0) {
      throw new Error(`${where(b)} exited with ${result.code ?? result.signal}:\n${result.output}`);
    }
  }, RUN_LIMIT_MS + 10_000);

  const servers = checked.filter((b) => b.flags.includes('serve'));
  if (servers.length > 0) it.each(servers.map((b) => [where(b), b] as const))('%s listens on PORT and echoes', async (_name, b) => {
    const s = snippets.find((x) => x.fenceLine === b.fenceLine)!;
    expect(await serveAndEcho(s)).toBe('hello from readme-snippets.spec.ts');
  }, RUN_LIMIT_MS + 10_000);
});

interface RunResult { code: number | null; signal: NodeJS.Signals | null; output: string }

/** Runs a block's compiled module in node until it exits (or the safety net kills it). */
function runToEnd(s: Snippet, env: Record<string, string>): Promise<RunResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [s.compiled], {
      cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      output += `\n[killed: still running after ${RUN_LIMIT_MS} ms; a runnable block must end by itself]`;
      child.kill('SIGKILL');
    }, RUN_LIMIT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, output });
    });
  });
}

/** Starts a `serve` block with PORT=0, waits for its `listening on <url>`, echoes one message through it, ends it. */
function serveAndEcho(s: Snippet): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [s.compiled], {
      cwd: dir, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let finished = false;
    let connecting = false;
    const finish = (err: Error | undefined, text?: string): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      child.kill('SIGTERM');
      if (err) fail(new Error(`${where(s)}: ${err.message}\n${output}`));
      else done(text!);
    };
    const timer = setTimeout(() => finish(new Error(`no echo within ${RUN_LIMIT_MS} ms`)), RUN_LIMIT_MS);
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code, signal) => finish(new Error(`exited (${code ?? signal}) before echoing`)));
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const url = /listening on (ws:\/\/\S+)/.exec(output)?.[1];
      if (url === undefined || finished || connecting) return;
      connecting = true;
      const ws = new WebSocket(url);
      ws.on('open', () => ws.send('hello from readme-snippets.spec.ts'));
      ws.on('message', (data) => {
        ws.close();
        finish(undefined, data.toString());
      });
      ws.on('error', (err) => finish(err));
    });
  });
}
