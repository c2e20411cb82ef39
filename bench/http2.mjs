// `npm run bench:http2 [-- --runs N] [--idle N] [--seconds S] [--write]`
//
// WebSockets over HTTP/2 (RFC 8441) against HTTP/1.1, in one run, on TLS (a throwaway
// certificate from openssl): the server (`serve({ tls, http2: true })`, which takes both on one
// port) and the client each in a process of their own, forked from this file with a role.
//
// - idle: `--idle` WebSockets (default 1 000) opened and left idle; the server's and the
//   client's heap and RSS growth per WebSocket, after a full GC on both sides. Over HTTP/2 they
//   are streams of one session; over HTTP/1.1 one TLS connection each.
// - echo: 16 WebSockets each keep 8 messages in flight for `--seconds` (default 2) against an
//   echo server; messages of 1 KiB and of 64 KiB; messages and MB echoed per second.
//
// HTTP/1.1 and HTTP/2 alternate run by run (`--runs`, default 3); the table gives medians.
// Bounded: at most --runs × (2 × seconds × 2 sizes + 2 idle rounds), about a minute with the defaults.
// `--write` replaces the table in bench/RESULTS.md's "WebSockets over HTTP/2" section.
import { execFileSync, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const role = opt('--role', 'parent');
const trace = (...xs) => process.env.BENCH_TRACE && console.error(`[${role}]`, ...xs);

/** Resolves with the next IPC message of `child` of type `type`. */
const next = (child, type) => new Promise((resolve, reject) => {
  const onMessage = (m) => {
    if (m?.type !== type) return;
    child.off('message', onMessage);
    child.off('exit', onExit);
    resolve(m);
  };
  const onExit = (code) => reject(new Error(`${type}: child exited with ${code}`));
  child.on('message', onMessage);
  child.once('exit', onExit);
});

const memory = () => {
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
};

async function lib() {
  const dist = path.join(here, '..', 'dist', 'node.mjs');
  if (!fs.existsSync(dist)) throw new Error('dist/node.mjs is missing: npm run build first');
  return import(dist);
}

// ---------------------------------------------------------------------------------------------
// Server process: an echo server for both protocols on one port.

async function server() {
  const { serve } = await lib();
  const tls = JSON.parse(process.env.BENCH_TLS);
  const s = await serve({ host: '127.0.0.1', port: 0, tls, http2: true }, (conn) => conn.readable.pipeTo(conn.writable).catch(() => undefined));
  process.on('message', (m) => {
    if (m.type === 'memory') process.send({ type: 'memory', ...memory(), connections: s.connections.size });
    if (m.type === 'stop') void s.close().then(() => process.exit(0));
  });
  process.send({ type: 'ready', port: s.port });
}

// ---------------------------------------------------------------------------------------------
// Client process: one measurement, then exit.

async function client() {
  const { connect } = await lib();
  const { port, protocol, mode, idle, seconds, size, ca } = JSON.parse(process.env.BENCH_JOB);
  const options = { tls: { ca, servername: 'localhost' }, ...(protocol === 'h2' ? { http2: { sessionIdleTimeout: 0 } } : {}) };
  const url = `wss://localhost:${port}/`;
  if (mode === 'idle') {
    const before = memory();
    const conns = [];
    // In batches of 100: the HTTP/1.1 handshakes would otherwise all be in flight at once.
    for (let i = 0; i < idle; i += 100) conns.push(...await Promise.all(Array.from({ length: Math.min(100, idle - i) }, () => connect(url, options))));
    process.send({ type: 'opened', client: { heap: memory().heap - before.heap, rss: memory().rss - before.rss } });
    await new Promise((resolve) => process.once('message', resolve));
    await Promise.all(conns.map((c) => c.close()));
    process.send({ type: 'done' });
    return;
  }
  const conns = await Promise.all(Array.from({ length: 16 }, () => connect(url, options)));
  const payload = new Uint8Array(size).fill(7);
  let echoed = 0;
  let running = true;
  const per = conns.map(() => 0);
  const tracer = process.env.BENCH_TRACE ? setInterval(() => trace('per conn', per.join(','), conns.map((c) => c.bufferedAmount).join(',')), 1000) : undefined;
  const started = performance.now();
  await Promise.all(conns.map(async (conn, k) => {
    const inFlight = 8;
    for (let i = 0; i < inFlight; i++) void conn.send(payload);
    for await (const msg of conn) {
      await msg.bytes();
      echoed++;
      per[k]++;
      if (!running) break;
      void conn.send(payload);
    }
  }).concat(new Promise((resolve) => setTimeout(() => {
    running = false;
    resolve();
  }, seconds * 1000))));
  const elapsed = (performance.now() - started) / 1000;
  trace('echo loop over', echoed);
  clearInterval(tracer);
  await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
  process.send({ type: 'done', perSecond: echoed / elapsed, mbPerSecond: (echoed * size) / elapsed / 1e6 });
}

// ---------------------------------------------------------------------------------------------
// Parent: the servers and clients, alternated, and the table.

function certificate() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-h2-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '1', '-keyout', path.join(dir, 'k'), '-out', path.join(dir, 'c'),
    ], { stdio: 'ignore' });
    return { key: fs.readFileSync(path.join(dir, 'k'), 'utf8'), cert: fs.readFileSync(path.join(dir, 'c'), 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function parent() {
  const runs = Number(opt('--runs', 3));
  const idle = Number(opt('--idle', 1000));
  const seconds = Number(opt('--seconds', 2));
  if (!(runs >= 1 && runs <= 10 && idle >= 1 && idle <= 10_000 && seconds > 0 && seconds <= 10)) {
    throw new RangeError('--runs 1..10, --idle 1..10000, --seconds (0, 10]');
  }
  const tls = certificate();
  const self = fileURLToPath(import.meta.url);
  const results = {};
  const add = (key, value) => (results[key] ??= []).push(value);
  for (let run = 0; run < runs; run++) {
    for (const protocol of run % 2 === 0 ? ['h1', 'h2'] : ['h2', 'h1']) {
      // A fresh server per protocol and run: its memory growth is that protocol's alone.
      const srv = fork(self, ['--role', 'server'], { env: { ...process.env, BENCH_TLS: JSON.stringify(tls) }, execArgv: ['--expose-gc'] });
      const { port } = await next(srv, 'ready');
      const job = (extra) => fork(self, ['--role', 'client'], {
        env: { ...process.env, BENCH_JOB: JSON.stringify({ port, protocol, idle, seconds, ca: tls.cert, ...extra }) },
        execArgv: ['--expose-gc'],
      });
      const base = await (srv.send({ type: 'memory' }), next(srv, 'memory'));
      const idler = job({ mode: 'idle' });
      trace(protocol, 'idle opening');
      const opened = await next(idler, 'opened');
      trace(protocol, 'idle opened');
      const loaded = await (srv.send({ type: 'memory' }), next(srv, 'memory'));
      idler.send({ type: 'close' });
      await next(idler, 'done');
      add(`${protocol} server heap/ws`, (loaded.heap - base.heap) / idle);
      add(`${protocol} server rss/ws`, (loaded.rss - base.rss) / idle);
      add(`${protocol} client heap/ws`, opened.client.heap / idle);
      add(`${protocol} client rss/ws`, opened.client.rss / idle);
      for (const size of [1024, 64 * 1024]) {
        trace(protocol, 'echo', size);
        const echo = job({ mode: 'echo', size });
        const r = await next(echo, 'done');
        add(`${protocol} echo ${size} msg/s`, r.perSecond);
        add(`${protocol} echo ${size} MB/s`, r.mbPerSecond);
      }
      srv.send({ type: 'stop' });
      await new Promise((r) => srv.once('exit', r));
      process.stdout.write(`run ${run + 1}/${runs} ${protocol} done\n`);
    }
  }
  const m = (k) => median(results[k]);
  const kb = (x) => `${(x / 1024).toFixed(1)} KiB`;
  const rows = [
    ['server heap per idle WebSocket', kb(m('h1 server heap/ws')), kb(m('h2 server heap/ws'))],
    ['server RSS per idle WebSocket', kb(m('h1 server rss/ws')), kb(m('h2 server rss/ws'))],
    ['client heap per idle WebSocket', kb(m('h1 client heap/ws')), kb(m('h2 client heap/ws'))],
    ['client RSS per idle WebSocket', kb(m('h1 client rss/ws')), kb(m('h2 client rss/ws'))],
    ...[1024, 64 * 1024].flatMap((size) => [
      [`echo ${size / 1024} KiB, messages/s`, m(`h1 echo ${size} msg/s`).toFixed(0), m(`h2 echo ${size} msg/s`).toFixed(0)],
      [`echo ${size / 1024} KiB, MB/s`, m(`h1 echo ${size} MB/s`).toFixed(1), m(`h2 echo ${size} MB/s`).toFixed(1)],
    ]),
  ];
  const table = [
    `| ${idle} idle WebSockets; 16 × 8 messages in flight for ${seconds} s | HTTP/1.1 (TLS) | HTTP/2 (TLS, one session) |`,
    '|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
  const header = `node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, medians of ${runs} runs (${new Date().toISOString().slice(0, 16)}Z), \`npm run bench:http2 -- --runs ${runs} --idle ${idle} --seconds ${seconds}\``;
  console.log(`\n${header}\n\n${table}`);
  if (args.includes('--write')) {
    const file = path.join(here, 'RESULTS.md');
    const text = fs.readFileSync(file, 'utf8');
    const begin = '<!-- bench:http2 begin -->';
    const end = '<!-- bench:http2 end -->';
    const block = `${begin}\n${header}\n\n${table}\n${end}`;
    const i = text.indexOf(begin);
    const j = text.indexOf(end);
    fs.writeFileSync(file, i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text.trimEnd()}\n\n## WebSockets over HTTP/2\n\n${block}\n`);
  }
}

await ({ parent, server, client })[role]();
