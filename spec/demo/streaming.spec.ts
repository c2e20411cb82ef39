// demo/streaming: every client against every server that serves its job (Autobahn tier and
// stream tier are interchangeable), then `npm run demo` itself, all with a few MiB.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

const demo = (...p: string[]) => join(__dirname, '../../demo', ...p);
const SIZE = 2; // MiB per run

/** Runs a node script to its end: exit code and stdout. */
async function runScript(script: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out, err };
}

/** Starts a demo server on a free port; resolves with its URL once it says it listens. */
function startServer(file: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [demo('streaming', file), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      const m = /listening on (ws:\/\/\S+)/.exec(d);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`${file} exited ${code}: ${err}`)));
  });
}

const JOBS = {
  message: { servers: ['message-server.mjs', 'stream-tier-message-server.mjs'], clients: ['message-client.mjs', 'stream-tier-message-client.mjs'], unit: 'message' },
  frame: { servers: ['frame-server.mjs', 'stream-tier-frame-server.mjs'], clients: ['frame-client.mjs', 'stream-tier-frame-client.mjs'], unit: 'frame' },
  streaming: {
    servers: ['streaming-server.mjs', 'stream-tier-streaming-server.mjs'],
    clients: ['streaming-client.mjs', 'producer-client.mjs', 'stream-tier-streaming-client.mjs'],
    unit: 'batch',
  },
} as const;

const servers = new Map<string, { child: ChildProcess; url: string }>();
beforeAll(async () => {
  for (const job of Object.values(JOBS)) for (const file of job.servers) servers.set(file, await startServer(file));
});
afterAll(async () => {
  for (const { child } of servers.values()) {
    const exited = once(child, 'exit');
    child.kill();
    await exited;
  }
});

const cases = Object.entries(JOBS).flatMap(([job, j]) => j.servers.flatMap((server) => j.clients.map((client) => [job, client, server, j.unit] as const)));

describe('demo/streaming: every client against every server of its job', () => {
  it.each(cases)('%s: %s against %s gets every digest right', async (_job, client, server, unit) => {
    const r = await runScript(demo('streaming', client), [servers.get(server)!.url, '--size', String(SIZE)]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines.filter((l) => l.startsWith(`Digest for ${unit} `))).toHaveLength(SIZE);
    expect(r.out).not.toMatch(/MISMATCH/);
    expect(lines.at(-1)).toMatch(new RegExp(`^${SIZE}/${SIZE} digests matched, `));
    // The endless frame cannot carry a close frame: its clients end TCP (1006); the others close with 1000.
    expect(lines.at(-1)).toMatch(unit === 'batch' ? /closed 1006 \(TCP ended/ : /closed 1000$/);
  });
});

describe('npm run demo', () => {
  it('runs every variant against its own server process and reports digests, MB/s and RSS growth', async () => {
    const r = await runScript(demo('run.mjs'), ['--size', String(SIZE)]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const summaries = r.out.split('\n').filter((l) => /digests matched +\d+ MB\/s +server peak RSS growth +[\d.]+ MiB/.test(l));
    expect(summaries.map((l) => l.slice(0, 26).trim())).toEqual([
      'Autobahn message-based', 'Autobahn frame-based', 'Autobahn streaming', 'Autobahn producer-paced',
      'stream tier message-based', 'stream tier frame-based', 'stream tier streaming',
    ]);
    for (const l of summaries) expect(l).toContain(`${SIZE}/${SIZE} digests matched`);
    expect(r.out).toMatch(/All digests matched/);
  });
});
