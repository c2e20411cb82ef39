// `npm run bench [-- <scenario>… ] [--quick] [--runs N] [--seconds S] [--servers a,b] [--loadgen-procs N] [--interleaved] [--write|--no-write]`
//
// Runs each scenario against each server, alternating servers run by run, in turn forward and
// backward (A B C D, D C B A, …), every server and every load generator in its own process.
// Prints one markdown table (medians of the runs, each with its median ratio to ws from the same
// runs) and, unless --quick, writes it to bench/RESULTS.md with the machine and the issue 6
// targets. See bench/README.md.
import { fork, execSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { histPercentile, makePatternChunk } from './loadgen.mjs';
import { cpuNs, cpuTicks, serverStats, startServer, stopServer } from './processes.mjs';
import { runFanout } from './fanout.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

// ---------------------------------------------------------------------------------------------
// Command line

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const quick = args.includes('--quick');
const runs = Number(opt('--runs', quick ? 1 : 5));
const loadgenProcs = Number(opt('--loadgen-procs', 2)); // for pingpong-1000 only
const serverFilter = opt('--servers', null)?.split(',');
const write = args.includes('--write') || (!quick && !args.includes('--no-write'));
const trickleMessages = Number(opt('--messages', quick ? 4 : 15)); // measured messages per trickle run
const trickleYieldEvery = Number(opt('--yield-every', 1)); // trickle: pieces written between two event-loop turns
const tricklePieceGapUs = Number(opt('--piece-gap-us', 0)); // trickle: least µs between two pieces (0: as fast as the loadgen goes)
/**
 * BENCH_BASE_DIST=<dir> or --base-dist <dir>: a second build of ours (a copy of dist/), measured in
 * the same runs as the columns ours-stream@base and ours-autobahn@base.
 */
const baseDist = (() => {
  const d = opt('--base-dist', process.env.BENCH_BASE_DIST || null);
  if (!d) return null;
  const abs = path.resolve(d);
  if (!fs.existsSync(path.join(abs, 'node.mjs'))) {
    console.error(`base build ${abs} has no node.mjs (BENCH_BASE_DIST / --base-dist must name a copy of dist/)`);
    process.exit(2);
  }
  return abs;
})();
const valued = new Set(['--runs', '--seconds', '--warmup-seconds', '--servers', '--loadgen-procs', '--messages', '--yield-every', '--piece-gap-us', '--base-dist', '--subscribers', '--rate', '--layouts']);
const selected = args.filter((a, i) => !a.startsWith('--') && !valued.has(args[i - 1]));

const warmupMs = quick ? 300 : 1000;
/**
 * Echoes of 64 KiB and more warm up for 3 s: a second of 1 MiB echoes is only about 1,700
 * messages, and V8 is still optimizing the per-message functions (and deoptimizing the odd one
 * on a path first taken) for two or three seconds more (`--trace-opt`: 36, 22, 14, 6 functions
 * optimized in the half-seconds after the first second). Measured from 1 s on, a build with more,
 * smaller functions looked 3–4 % slower against another than once both are warm.
 */
const BIG_ECHO_WARMUP_MS = Number(opt('--warmup-seconds', 3)) * 1000;
const warmupFor = (s) => (!quick && s.kind === 'echo' && s.job.size >= 64 * KiB ? BIG_ECHO_WARMUP_MS : warmupMs);
const durationMs = Number(opt('--seconds', quick ? 1 : 3)) * 1000;
/**
 * `--interleaved`: the echo scenarios run every column's server at once and give them the load
 * in turns of `SLOT_MS` (see `measureInterleaved`), instead of one server after the other.
 */
const interleaved = args.includes('--interleaved');
const SLOT_MS = 500;

// ---------------------------------------------------------------------------------------------
// Servers and scenarios

/** Columns of the table, in the order servers are alternated within each run. */
const COLUMNS = baseDist
  ? ['ws', 'ws+bufferutil', 'ours-stream', 'ours-stream@base', 'ours-autobahn', 'ours-autobahn@base', 'ceiling']
  : ['ws', 'ws+bufferutil', 'ours-stream', 'ours-autobahn', 'ceiling'];
const COLUMN_TITLES = {
  ws: 'ws', 'ws+bufferutil': 'ws + bufferutil', 'ours-stream': 'ours: stream tier', 'ours-autobahn': 'ours: Autobahn tier', ceiling: 'ceiling',
  'ours-stream@base': 'ours: stream tier @base', 'ours-autobahn@base': 'ours: Autobahn tier @base',
};
/** With a base build, each of our columns against its @base twin, run by run (new ÷ base). */
const BASE_PAIRS = baseDist ? [['ours-stream', 'ours-stream@base', 'stream new÷base'], ['ours-autobahn', 'ours-autobahn@base', 'Autobahn new÷base']] : [];
/** The server file of a column in a scenario: an @base column runs its twin's server. */
const serverFile = (s, c) => s.servers[c] ?? (c.endsWith('@base') ? s.servers[c.slice(0, -'@base'.length)] : undefined);
/** The job a loadgen runs against `file`'s server on `port` (`tcp` mode for the plain TCP echo). */
const loadgenJob = (kind, s, file, port, timing = {}) => ({ kind, host: '127.0.0.1', port, mode: file === 'tcp-echo.mjs' ? 'tcp' : 'ws', ...timing, ...s.job });
/** What identifies a server that turned out unavailable, so that it is tried once. */
const unavailableKey = (s, c) => `${serverFile(s, c)} ${(s.args ?? []).join(' ')} ${JSON.stringify(COLUMN_ENV[c] ?? {})}`;
/**
 * Environment of each column's server. ws loads the native `bufferutil` addon (masking and
 * unmasking payloads of 48 bytes or more) whenever it is installed, and it is a devDependency:
 * the plain `ws` column turns it off, the `ws+bufferutil` column runs the same server with it.
 */
const COLUMN_ENV = { ws: { WS_NO_BUFFER_UTIL: '1' } };
// ours-lib.mjs loads BENCH_DIST instead of dist/: the @base columns point it at the base build.
if (baseDist) COLUMN_ENV['ours-stream@base'] = COLUMN_ENV['ours-autobahn@base'] = { BENCH_DIST: baseDist };

const ECHO_SERVERS = { ws: 'ws-echo.mjs', 'ours-stream': 'ours-stream.mjs', 'ours-autobahn': 'ours-autobahn.mjs', ceiling: 'tcp-echo.mjs' };
/** The size sweep also runs ws with bufferutil: the large-message targets hold against it too. */
const ECHO_SERVERS_BU = { ws: 'ws-echo.mjs', 'ws+bufferutil': 'ws-echo.mjs', 'ours-stream': 'ours-stream.mjs', 'ours-autobahn': 'ours-autobahn.mjs', ceiling: 'tcp-echo.mjs' };

/** Messages kept in flight on the one connection: enough bytes to keep the server busy. */
const windowFor = (size) => Math.min(1024, Math.max(2, Math.ceil((2 * MiB) / size)));

const echo = (name, size, unit, extra = {}) => ({
  name, kind: 'echo', unit, servers: ECHO_SERVERS_BU,
  job: { size, connections: 1, window: windowFor(size), ...extra },
});
/**
 * One 1 MiB message at a time, its frame written in `piece`-byte pieces (one socket write each):
 * what a server pays per socket read when a peer trickles a large message in.
 */
const trickle = (name, size, piece) => ({
  name, kind: 'trickle', servers: ECHO_SERVERS_BU,
  job: { size, piece, connections: 1, messages: trickleMessages, warmupMessages: quick ? 1 : 3, yieldEvery: trickleYieldEvery, pieceGapUs: tricklePieceGapUs, timeoutMs: 30_000 },
});
const deflate = (name, size) => ({
  name, kind: 'echo', unit: 'MB/s', deflate: true,
  servers: { ws: 'ws-echo.mjs', 'ours-stream': 'ours-stream.mjs', 'ours-autobahn': 'ours-autobahn.mjs' },
  args: ['--deflate'],
  job: { size, connections: 1, window: windowFor(size), deflate: true, text: true },
});

/**
 * One message broadcast to every one of `connections` clients, `rounds` times (one event-loop
 * turn apart): ours `server.broadcast(text)` against the loop ws users write
 * (`for (const c of wss.clients) c.send(data)`).
 */
const broadcastTo = (name, connections, rounds) => ({
  name, kind: 'broadcast',
  servers: { ws: 'ws-broadcast.mjs', 'ours-stream': 'ours-broadcast.mjs' },
  job: { size: 128, connections, rounds: quick ? Math.ceil(rounds / 5) : rounds, timeoutMs: 120_000 },
});

const SCENARIOS = [
  echo('echo-16', 16, 'msgs/s'),
  echo('echo-1k', KiB, 'msgs/s'),
  echo('echo-64k', 64 * KiB, 'MB/s'),
  echo('echo-1m', MiB, 'MB/s'),
  echo('echo-16m', 16 * MiB, 'MB/s'),
  trickle('echo-1m-64b', MiB, 64),
  trickle('echo-1m-1k', MiB, KiB),
  { name: 'pingpong-1000', kind: 'pingpong', servers: ECHO_SERVERS, job: { size: 32, connections: 1000 } },
  {
    name: 'sha256-4g', kind: 'big',
    servers: { ws: 'ws-sha256.mjs', 'ours-stream': 'ours-sha256.mjs' },
    job: { totalBytes: quick ? 256 * MiB : 4 * GiB, chunkBytes: 64 * MiB, path: '/sha256', timeoutMs: 600_000 },
  },
  { name: 'idle-10k', kind: 'idle', servers: ECHO_SERVERS, job: { connections: quick ? 2000 : 10_000 } },
  deflate('deflate-1k', KiB),
  deflate('deflate-64k', 64 * KiB),
  deflate('deflate-1m', MiB),
  {
    name: 'idle-deflate-1000', kind: 'idle', deflate: true, args: ['--deflate'],
    servers: { ws: 'ws-echo.mjs', 'ours-stream': 'ours-stream.mjs', 'ours-autobahn': 'ours-autobahn.mjs' },
    job: { connections: 1000, deflate: true },
  },
  broadcastTo('broadcast-1000', 1000, 200),
  broadcastTo('broadcast-10k', 10_000, 40),
];

// ---------------------------------------------------------------------------------------------
// Processes

/**
 * Forks a load generator for `job`; `onReady` is called for idle jobs, `onMark(phase)` when a
 * trickle job starts and ends its measurement (the loadgen waits until it has returned).
 */
function runLoadgen(job, onReady, timeoutMs, onMark) {
  return new Promise((resolve) => {
    const child = fork(path.join(here, 'loadgen.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let done = false;
    const finish = (v) => { if (!done) { done = true; clearTimeout(timer); resolve(v); } };
    const timer = setTimeout(() => { child.kill('SIGKILL'); finish({ error: `loadgen timed out after ${timeoutMs} ms` }); }, timeoutMs);
    child.on('message', async (m) => {
      if (m?.type === 'ready') { await onReady?.(); child.send({ type: 'close' }); }
      else if (m?.type === 'mark') { await onMark?.(m.phase); child.send({ type: 'go', phase: m.phase }); }
      else if (m?.type === 'result') finish({ result: m.result });
      else if (m?.type === 'error') finish({ error: m.message });
    });
    child.on('exit', (code) => finish({ error: `loadgen exited with code ${code}` }));
    child.send({ type: 'job', job });
  });
}

/** Several loadgens in parallel, connections split between them; sums rates and histograms. */
async function runLoadgens(job, procs, timeoutMs) {
  if (procs <= 1 || job.connections < procs) return runLoadgen(job, null, timeoutMs);
  const per = Math.floor(job.connections / procs);
  const parts = await Promise.all(Array.from({ length: procs }, (_, i) =>
    runLoadgen({ ...job, connections: i === procs - 1 ? job.connections - per * (procs - 1) : per }, null, timeoutMs)));
  const err = parts.find((p) => p.error);
  if (err) return err;
  const rs = parts.map((p) => p.result);
  const sum = (k) => rs.reduce((a, r) => a + r[k], 0);
  const result = { msgsPerSec: sum('msgsPerSec'), mbPerSec: sum('mbPerSec'), messages: sum('messages'), cpu: sum('cpu') };
  if (rs[0].hist) result.hist = rs[0].hist.map((_, i) => rs.reduce((a, r) => a + r.hist[i], 0));
  return { result };
}

/** Asks a broadcast server for `job.rounds` broadcasts; resolves with its report (null if it went away). */
function requestBroadcasts(child, job) {
  return new Promise((resolve) => {
    const onMsg = (m) => { if (m?.type === 'broadcast-done') { child.off('message', onMsg); resolve(m); } };
    child.on('message', onMsg);
    child.once('exit', () => resolve(null));
    child.send({ type: 'broadcast', rounds: job.rounds, size: job.size });
  });
}

/** Read and write system calls of a process so far, from /proc (null where there is none). */
function procIo(pid) {
  try {
    const t = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
    const get = (k) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(t)?.[1]);
    return { syscr: get('syscr'), syscw: get('syscw'), rchar: get('rchar') };
  } catch {
    return null;
  }
}

function openFileLimit() {
  try {
    return Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim());
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------------------------------------
// One measurement: start the server, run the loadgen, stop the server. Returns named values.

async function measure(scenario, column) {
  const file = serverFile(scenario, column);
  const started = await startServer(file, scenario.args ?? [], COLUMN_ENV[column]);
  if (started.unavailable) return { unavailable: started.unavailable };
  if (started.error) return { error: started.error };
  const { child, port, info } = started;
  const warmup = warmupFor(scenario);
  const job = loadgenJob(scenario.kind, scenario, file, port, { warmupMs: warmup, durationMs });
  try {
    if (scenario.kind === 'echo' || scenario.kind === 'pingpong') {
      const procs = scenario.kind === 'pingpong' ? loadgenProcs : 1;
      // Server CPU over (roughly) the loadgen's measurement window, from /proc ticks. Connection
      // setup is not part of it for one connection; for many it may overlap the warm-up.
      let t0 = null, serverCpu = NaN;
      const a = setTimeout(() => { t0 = [cpuTicks(child.pid), performance.now()]; }, warmup);
      const b = setTimeout(() => { if (t0) serverCpu = ((cpuTicks(child.pid) - t0[0]) * 10 / (performance.now() - t0[1])) * 100; }, warmup + durationMs - 50);
      const r = await runLoadgens(job, procs, warmup + durationMs + 120_000);
      clearTimeout(a); clearTimeout(b);
      if (r.error) return { error: r.error, info };
      const v = { 'msgs/s': r.result.msgsPerSec, 'MB/s': r.result.mbPerSec, 'loadgen CPU %': r.result.cpu, 'server CPU %': serverCpu };
      // Server CPU time per echoed message: what the server costs, whatever share of the CPU it
      // got; steadier than a rate when other processes compete for the cores.
      v['server µs/msg'] = (serverCpu / 100) * 1e6 / r.result.msgsPerSec;
      if (r.result.hist) {
        v['p50 µs'] = histPercentile(r.result.hist, 0.5);
        v['p99 µs'] = histPercentile(r.result.hist, 0.99);
      }
      return { values: v, info };
    }
    if (scenario.kind === 'trickle') {
      // The server's CPU time (process.cpuUsage, µs; its user part is only printed: Linux splits
      // the precise total into user and system by tick samples, too few in a short run) and its read/write system calls
      // (/proc/<pid>/io: libuv reads a TCP socket with read(2), and its IPC channel with
      // recvmsg(2), which is not counted) between the loadgen's two marks: exactly the measured
      // messages.
      const at = {};
      const r = await runLoadgen(job, null, 180_000, async (phase) => {
        const st = await serverStats(child);
        at[phase] = { cpu: st ? st.cpu.user + st.cpu.system : NaN, user: st ? st.cpu.user : NaN, io: procIo(child.pid) };
      });
      if (r.error) return { error: r.error, info };
      const res = r.result;
      const n = res.messages;
      const cpuUs = at.end.cpu - at.start.cpu;
      const userUs = at.end.user - at.start.user;
      const io = at.start.io && at.end.io ? { r: at.end.io.syscr - at.start.io.syscr, w: at.end.io.syscw - at.start.io.syscw, b: at.end.io.rchar - at.start.io.rchar } : { r: NaN, w: NaN, b: NaN };
      return {
        values: {
          'ms/msg': res.msPerMsg,
          'server µs/msg': cpuUs / n,
          'server user µs/msg': userUs / n,
          'server reads/msg': io.r / n,
          'server µs/read': cpuUs / io.r,
          'server user µs/read': userUs / io.r,
          'server B/read': io.b / io.r,
          'server writes/msg': io.w / n,
          'client writes/msg': res.clientWritesPerMsg,
          'loadgen CPU %': res.cpu,
          'server CPU %': (cpuUs / 1000 / res.wallMs) * 100,
        },
        info,
      };
    }
    if (scenario.kind === 'big') {
      const before = await serverStats(child, true);
      let peak = before?.rss ?? 0;
      const poll = setInterval(async () => {
        const s = await serverStats(child, false, 1000);
        if (s) peak = Math.max(peak, s.rss);
      }, 250);
      const r = await runLoadgen({ ...job, expectedSha256: scenario.expected }, null, job.timeoutMs + 30_000);
      clearInterval(poll);
      const after = await serverStats(child, false);
      if (after) peak = Math.max(peak, after.hwm || 0, after.rss);
      const growth = before ? (peak - before.rss) / MiB : NaN;
      if (r.error) return { error: `${r.error}; server RSS grew by ${growth.toFixed(0)} MiB before that`, info };
      return { values: { 'MB/s': r.result.mbPerSec, 'RSS growth MiB': growth }, info };
    }
    if (scenario.kind === 'broadcast') {
      const limit = openFileLimit();
      if (limit < job.connections + 64) return { error: `ulimit -n is ${limit}, below the ${job.connections} connections needed (raise it with ulimit -n)` };
      // The server's CPU time between the loadgen's marks: from just before the runner asks for
      // the broadcasts to the last message delivered.
      const at = {};
      let report;
      const r = await runLoadgen(job, null, job.timeoutMs + 180_000, async (phase) => {
        const st = await serverStats(child);
        at[phase] = st ? st.cpu.user + st.cpu.system : NaN;
        if (phase === 'start') report = requestBroadcasts(child, job);
      });
      if (r.error) return { error: r.error, info };
      const done = await report;
      const n = r.result.messages;
      const cpuUs = at.end - at.start;
      return {
        values: {
          'msgs/s': r.result.msgsPerSec,
          'server µs/msg': cpuUs / n,
          'loadgen CPU %': r.result.cpu,
          'server CPU %': (cpuUs / 1000 / r.result.wallMs) * 100,
          skipped: done?.skipped ?? NaN,
        },
        info,
      };
    }
    if (scenario.kind === 'idle') {
      const limit = openFileLimit();
      if (limit < job.connections + 64) return { error: `ulimit -n is ${limit}, below the ${job.connections} connections needed (raise it with ulimit -n)` };
      const before = await serverStats(child, true);
      let after = null;
      const r = await runLoadgen(job, async () => {
        await new Promise((res) => setTimeout(res, 500));
        after = await serverStats(child, true);
      }, 180_000);
      if (r.error) return { error: r.error, info };
      if (!before || !after) return { error: 'server did not report its memory', info };
      return {
        values: {
          'bytes/conn (RSS)': (after.rss - before.rss) / job.connections,
          'bytes/conn (heap)': (after.heapUsed - before.heapUsed) / job.connections,
        },
        info,
      };
    }
    throw new Error(`unknown scenario kind ${scenario.kind}`);
  } finally {
    await stopServer(child);
  }
}

/**
 * A loadgen running an `echo-slots` job (see loadgen.mjs `runEchoSlots`): `ready` resolves once
 * it is connected; `slot(ms)` keeps the window full for `ms`, then waits for the messages in
 * flight, and resolves with `{ messages, cpuUs }` (or `{ error }`); `end()` lets it exit.
 */
function startSlotLoadgen(job) {
  const child = fork(path.join(here, 'loadgen.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let waiter = null;
  let failure = null;
  const deliver = (v) => { const w = waiter; waiter = null; w?.(v); };
  const ready = new Promise((resolve) => {
    child.on('message', (m) => {
      if (m?.type === 'ready') resolve({});
      else if (m?.type === 'stopped') deliver({ messages: m.messages, cpuUs: m.cpuUs });
      else if (m?.type === 'error') { failure = m.message; resolve({ error: failure }); deliver({ error: failure }); }
    });
    child.on('exit', (code) => { failure ??= `loadgen exited with code ${code}`; resolve({ error: failure }); deliver({ error: failure }); });
  });
  child.send({ type: 'job', job });
  return {
    ready,
    slot(ms) {
      if (failure) return Promise.resolve({ error: failure });
      return new Promise((resolve) => {
        const timer = setTimeout(() => { child.kill('SIGKILL'); failure ??= 'loadgen did not finish its slot within 60 s'; deliver({ error: failure }); }, ms + 60_000);
        waiter = (v) => { clearTimeout(timer); resolve(v); };
        child.send({ type: 'go' });
        setTimeout(() => { if (child.connected) child.send({ type: 'stop' }); }, ms);
      });
    },
    end() {
      if (child.connected) child.send({ type: 'end' });
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    },
  };
}

/**
 * One run of an echo scenario with `--interleaved`: every column's server is started, each with
 * its own loadgen; each warms up alone (the others idle, connected); then they take turns in
 * slots of `SLOT_MS`, the order reversed every round, until each has had `durationMs` of load.
 * A server's CPU time is counted slot by slot (`cpuNs`: every thread, exact), and so are its
 * messages. Run one after the other, two servers see the machine at moments seconds apart, and
 * this VM's speed drifts by ±10 % over such spans (other tenants of the host); within one run
 * of slots both see the same drift, so their ratio keeps only what differs between them and
 * between their processes. Returns `{ [column]: measure()-shaped result }`.
 */
async function measureInterleaved(scenario, columns, r) {
  const order = r % 2 ? [...columns].reverse() : columns;
  const live = [];
  const out = {};
  try {
    for (const c of order) {
      const file = serverFile(scenario, c);
      const started = await startServer(file, scenario.args ?? [], COLUMN_ENV[c]);
      if (started.unavailable || started.error) { out[c] = started.unavailable ? { unavailable: started.unavailable } : { error: started.error }; continue; }
      const job = loadgenJob('echo-slots', scenario, file, started.port);
      const lg = startSlotLoadgen(job);
      live.push({ c, child: started.child, info: started.info, lg, ns: 0, wall: 0, messages: 0, lgUs: 0, error: null });
      const ok = await lg.ready;
      if (ok.error) live.at(-1).error = ok.error;
    }
    for (const l of live) if (!l.error) { const w = await l.lg.slot(warmupFor(scenario)); if (w.error) l.error = w.error; }
    const rounds = Math.max(1, Math.round(durationMs / SLOT_MS));
    for (let k = 0; k < rounds; k++) {
      for (const l of k % 2 ? [...live].reverse() : live) {
        if (l.error) continue;
        const n0 = cpuNs(l.child.pid);
        const t0 = performance.now();
        const st = await l.lg.slot(SLOT_MS);
        if (st.error) { l.error = st.error; continue; }
        l.ns += cpuNs(l.child.pid) - n0;
        l.wall += performance.now() - t0;
        l.messages += st.messages;
        l.lgUs += st.cpuUs;
      }
    }
    for (const l of live) {
      if (l.error) { out[l.c] = { error: l.error, info: l.info }; continue; }
      if (l.messages === 0) { out[l.c] = { error: 'No message echoed during the measurement', info: l.info }; continue; }
      const serverCpu = (l.ns / 1e6 / l.wall) * 100;
      const v = {
        'msgs/s': (l.messages / l.wall) * 1000, 'MB/s': (l.messages * scenario.job.size) / l.wall / 1000,
        'loadgen CPU %': (l.lgUs / 1000 / l.wall) * 100, 'server CPU %': serverCpu, 'server µs/msg': l.ns / 1e3 / l.messages,
      };
      out[l.c] = { values: v, info: l.info };
    }
    return out;
  } finally {
    for (const l of live) l.lg.end();
    await Promise.all(live.map((l) => stopServer(l.child)));
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

/** `metric` of each run of `a` over the same run of `b` (NaN where either is missing). */
function runRatios(a, b, metric) {
  return a.map((v, i) => {
    const w = b?.[i]?.[metric];
    return v && Number.isFinite(w) && w !== 0 ? v[metric] / w : NaN;
  });
}

function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/**
 * The median of per-run ratios and, from 5 runs on, a 95 % bootstrap interval of that median
 * (resampled 2,000 times with a fixed seed, so the same runs print the same interval). A bound
 * such as "at most 1.02× the old build" is only shown when the whole interval is under it: the
 * run-to-run spread of a kernel-bound scenario (the 1 MiB echo: ±15 %) can hide a small change.
 */
function medianWithInterval(xs) {
  const v = xs.filter((x) => Number.isFinite(x));
  const out = { median: median(v) };
  if (v.length < 5) return out;
  let seed = 0x9e3779b9;
  const random = () => {
    // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const medians = [];
  for (let k = 0; k < 2000; k++) medians.push(median(v.map(() => v[Math.floor(random() * v.length)])));
  medians.sort((a, b) => a - b);
  out.low = medians[Math.floor(0.025 * medians.length)];
  out.high = medians[Math.ceil(0.975 * medians.length) - 1];
  return out;
}

function fmt(x) {
  if (!Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** Which metrics each scenario shows in the table, in order. */
function metricsOf(s) {
  if (s.kind === 'echo') return [s.unit];
  if (s.kind === 'pingpong') return ['msgs/s', 'p50 µs', 'p99 µs'];
  if (s.kind === 'big') return ['MB/s', 'RSS growth MiB'];
  if (s.kind === 'trickle') return ['ms/msg', 'server µs/msg', 'server reads/msg', 'server µs/read'];
  if (s.kind === 'broadcast') return ['msgs/s', 'server µs/msg'];
  return ['bytes/conn (RSS)'];
}

// ---------------------------------------------------------------------------------------------
// Main

async function cryptoBaseline(chunk, reps) {
  const t0 = performance.now();
  const h = crypto.createHash('sha256');
  for (let i = 0; i < reps; i++) h.update(chunk);
  const digest = h.digest('hex');
  const ms = performance.now() - t0;
  return { digest, mbPerSec: (chunk.length * reps) / ms / 1000 };
}

/** `fanout` (not part of the default run: it starts redis-server and many processes): its own table, printed. */
async function mainFanout() {
  const table = await runFanout({
    runs, warmupMs, durationMs, fmt, median,
    subscribers: Number(opt('--subscribers', quick ? 200 : 1000)),
    rate: Number(opt('--rate', 50)),
    size: 128,
    loadgenProcs,
    layouts: opt('--layouts', null)?.split(','),
  });
  console.log(`\n${table}\n\nCommand: npm run bench -- ${args.join(' ')}; ${new Date().toISOString()}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ${os.cpus().length} cores, Node ${process.version}; ${libraryBuild()}`);
}

async function main() {
  if (selected.includes('fanout')) {
    await mainFanout();
    selected.splice(selected.indexOf('fanout'), 1);
    if (selected.length === 0) return;
  }
  const matches = (s, n) => (SCENARIOS.some((x) => x.name === n) ? s.name === n : s.name.startsWith(n));
  const scenarios = SCENARIOS.filter((s) => selected.length === 0 || selected.some((n) => matches(s, n)));
  if (scenarios.length === 0) {
    console.error(`No scenario matches ${selected.join(' ')}. Scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`);
    process.exit(2);
  }
  const started = Date.now();
  const loadStart = os.loadavg()[0];
  console.log(`bench: ${scenarios.map((s) => s.name).join(', ')}; ${runs} run(s) each${quick ? ' (quick)' : ''}`);
  const unavailable = {}; // file+args → reason, so an unbuilt server is tried once
  const infos = {};
  const table = [];
  for (const s of scenarios) {
    const columns = COLUMNS.filter((c) => serverFile(s, c) && (!serverFilter || serverFilter.includes(c)));
    const samples = Object.fromEntries(columns.map((c) => [c, []]));
    const errors = {};
    let pattern = null;
    const cryptoRuns = [];
    if (s.kind === 'big') pattern = makePatternChunk(s.job.chunkBytes);
    for (let r = 0; r < runs; r++) {
      if (s.kind === 'big') {
        // node:crypto SHA-256 on a 64 MiB buffer hashed repeatedly, in this run: the ceiling, and
        // the digest the server must answer with.
        const b = await cryptoBaseline(pattern, s.job.totalBytes / s.job.chunkBytes);
        s.expected = b.digest;
        cryptoRuns.push(b.mbPerSec);
      }
      // Odd runs go backward: no column always runs right after the same other one (a server
      // that leaves the machine warm or busy would otherwise tilt one ratio the same way every run).
      const together = interleaved && s.kind === 'echo' ? await measureInterleaved(s, columns.filter((c) => !unavailable[unavailableKey(s, c)]), r) : null;
      for (const c of r % 2 ? [...columns].reverse() : columns) {
        const key = unavailableKey(s, c);
        if (unavailable[key]) { errors[c] = `n/a (${unavailable[key]})`; continue; }
        const m = together ? together[c] : await measure(s, c);
        if (m.info) Object.assign((infos[c] ??= {}), m.info);
        if (m.unavailable) { unavailable[key] = m.unavailable; errors[c] = `n/a (${m.unavailable})`; continue; }
        if (m.error) { errors[c] = m.error; samples[c].push(null); console.log(`  ${s.name} run ${r + 1} ${c}: ERROR ${m.error}`); continue; }
        samples[c].push(m.values);
        const shown = metricsOf(s).map((k) => `${fmt(m.values[k])} ${k}`).join(', ');
        const cpu = m.values['loadgen CPU %'] !== undefined ? ` (CPU: loadgen ${m.values['loadgen CPU %'].toFixed(0)} %, server ${m.values['server CPU %'].toFixed(0)} %, ${fmt(m.values['server µs/msg'])} server µs/msg)` : '';
        const io = s.kind === 'trickle' ? ` [server user ${fmt(m.values['server user µs/msg'])} µs/msg, ${fmt(m.values['server B/read'])} B/read, ${fmt(m.values['server writes/msg'])} writes/msg; client ${fmt(m.values['client writes/msg'])} writes/msg]` : '';
        console.log(`  ${s.name} run ${r + 1} ${c}: ${shown}${cpu}${io}`);
      }
      for (const [a, b, label] of BASE_PAIRS) {
        const va = samples[a]?.[r], vb = samples[b]?.[r];
        if (va && vb) console.log(`  ${s.name} run ${r + 1} ${label}: ${metricsOf(s).map((k) => `${(va[k] / vb[k]).toFixed(2)}× ${k}`).join(', ')}${va['server µs/msg'] !== undefined && !metricsOf(s).includes('server µs/msg') ? `, ${(va['server µs/msg'] / vb['server µs/msg']).toFixed(2)}× server µs/msg` : ''}`);
      }
    }
    for (const metric of metricsOf(s)) {
      const row = { scenario: s.name, metric, cells: {} };
      for (const c of columns) {
        const vals = samples[c].map((v) => v?.[metric]);
        // Ratios within each run (the servers of one run ran back to back), then their median.
        const ratiosTo = (base) => runRatios(samples[c], samples[base], metric);
        row.cells[c] = {
          value: median(vals), ratio: median(ratiosTo('ws')), ratioBu: median(ratiosTo('ws+bufferutil')),
          n: vals.filter(Number.isFinite).length, error: errors[c],
        };
      }
      // New ÷ base, run by run (the two ran back to back), then the median.
      const newOverBase = (m) => Object.fromEntries(BASE_PAIRS.filter(([a, b]) => samples[a] && samples[b]).map(([a, b, label]) =>
        [label, medianWithInterval(runRatios(samples[a], samples[b], m))]));
      row.base = newOverBase(metric);
      if (s.kind === 'big' && metric === 'MB/s') row.cells.ceiling = { value: median(cryptoRuns), ratio: NaN, n: cryptoRuns.length, note: 'node:crypto' };
      if (s.kind === 'echo' || s.kind === 'pingpong' || s.kind === 'trickle' || s.kind === 'broadcast') {
        row.cpu = Object.fromEntries(columns.map((c) => [c, [median(samples[c].map((v) => v?.['loadgen CPU %'])), median(samples[c].map((v) => v?.['server CPU %'])), median(samples[c].map((v) => v?.['server µs/msg']))]]));
        row.cpuBase = newOverBase('server µs/msg');
      }
      // One CPU row per scenario is enough.
      if (table.some((r) => r.scenario === s.name && r.cpu)) delete row.cpu;
      table.push(row);
    }
  }
  const minutes = (Date.now() - started) / 60000;
  const md = render(table, infos, minutes, [loadStart, os.loadavg()[0]]);
  console.log(`\n${md}`);
  if (write) {
    fs.writeFileSync(path.join(here, 'RESULTS.md'), md);
    console.log('written to bench/RESULTS.md');
  }
}

function cell(c) {
  if (!c) return '';
  if (c.note) return `${fmt(c.value)} (${c.note})`;
  if (!Number.isFinite(c.value)) return c.error ? (c.error.startsWith('n/a') ? 'n/a' : 'failed') : '—';
  const ratio = Number.isFinite(c.ratio) ? ` (${c.ratio.toFixed(2)}×)` : '';
  return `${fmt(c.value)}${ratio}${c.n > 0 && c.n < runs ? ` [${c.n} of ${runs} runs]` : ''}`;
}

function find(table, scenario, metric) {
  return table.find((r) => r.scenario === scenario && r.metric === metric);
}

/** The issue 6 targets, each checked against this run's table. */
function targets(table) {
  const out = [];
  const ratioAtLeast = (scenario, metric, column, min, label, key = 'ratio') => {
    const row = find(table, scenario, metric);
    const c = row?.cells[column];
    if (!row) return;
    const r = c?.[key];
    const ok = Number.isFinite(r) ? (r >= min ? 'met' : 'NOT met') : 'n/a';
    out.push([label, Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a', ok]);
  };
  for (const s of ['echo-16', 'echo-1k']) {
    ratioAtLeast(s, 'msgs/s', 'ours-stream', 3, `${s}: stream tier ≥ 3× ws msgs/s`);
    ratioAtLeast(s, 'msgs/s', 'ours-autobahn', 2, `${s}: Autobahn tier ≥ 2× ws msgs/s`);
  }
  for (const s of ['echo-64k', 'echo-1m', 'echo-16m']) {
    ratioAtLeast(s, 'MB/s', 'ours-stream', 1, `${s}: stream tier ≥ 1.0× ws MB/s`);
    ratioAtLeast(s, 'MB/s', 'ours-stream', 1, `${s}: stream tier ≥ 1.0× ws+bufferutil MB/s`, 'ratioBu');
    ratioAtLeast(s, 'MB/s', 'ours-autobahn', 1, `${s}: Autobahn tier ≥ 1.0× ws MB/s`);
    ratioAtLeast(s, 'MB/s', 'ours-autobahn', 1, `${s}: Autobahn tier ≥ 1.0× ws+bufferutil MB/s`, 'ratioBu');
  }
  const m1 = find(table, 'echo-1m', 'MB/s');
  if (m1) {
    const ours = m1.cells['ours-stream']?.value, tcp = m1.cells.ceiling?.value;
    const r = ours / tcp;
    out.push(['echo-1m: stream tier ≥ 0.8× plain TCP echo', Number.isFinite(r) ? `${r.toFixed(2)}× TCP` : 'n/a', Number.isFinite(r) ? (r >= 0.8 ? 'met' : 'NOT met') : 'n/a']);
  }
  ratioAtLeast('pingpong-1000', 'msgs/s', 'ours-stream', 1.2, 'pingpong-1000: stream tier ≥ 1.2× ws msgs/s');
  const p99 = find(table, 'pingpong-1000', 'p99 µs');
  if (p99) {
    const r = p99.cells['ours-stream']?.ratio;
    out.push(['pingpong-1000: stream tier p99 ≤ ws p99', Number.isFinite(r) ? `${r.toFixed(2)}× ws` : 'n/a', Number.isFinite(r) ? (r <= 1 ? 'met' : 'NOT met') : 'n/a']);
  }
  const big = find(table, 'sha256-4g', 'MB/s');
  if (big) {
    const r = big.cells['ours-stream']?.value / big.cells.ceiling?.value;
    out.push(['sha256-4g: ≥ 90 % of node:crypto SHA-256 speed', Number.isFinite(r) ? `${(r * 100).toFixed(0)} %` : 'n/a', Number.isFinite(r) ? (r >= 0.9 ? 'met' : 'NOT met') : 'n/a']);
    const g = find(table, 'sha256-4g', 'RSS growth MiB')?.cells['ours-stream']?.value;
    out.push(['sha256-4g: server RSS growth < 64 MiB', Number.isFinite(g) ? `${g.toFixed(0)} MiB` : 'n/a', Number.isFinite(g) ? (g < 64 ? 'met' : 'NOT met') : 'n/a']);
  }
  const idle = find(table, 'idle-10k', 'bytes/conn (RSS)');
  if (idle) {
    const r = idle.cells['ours-stream']?.ratio;
    out.push(['idle-10k: stream tier bytes/conn ≤ ws', Number.isFinite(r) ? `${r.toFixed(2)}× ws` : 'n/a', Number.isFinite(r) ? (r <= 1 ? 'met' : 'NOT met') : 'n/a']);
  }
  for (const s of ['deflate-1k', 'deflate-64k', 'deflate-1m']) {
    ratioAtLeast(s, 'MB/s', 'ours-stream', 1, `${s}: stream tier ≥ 1.0× ws MB/s`);
    ratioAtLeast(s, 'MB/s', 'ours-autobahn', 1, `${s}: Autobahn tier ≥ 1.0× ws MB/s`);
  }
  return out;
}

function cpuModel() {
  try {
    return /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model;
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

function osName() {
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1];
    return `${pretty ?? os.type()}, ${os.type()} ${os.release()} ${os.arch()}`;
  } catch {
    return `${os.type()} ${os.release()} ${os.arch()}`;
  }
}

function render(table, infos, minutes, load) {
  const lines = [];
  lines.push('# Benchmark results', '');
  lines.push(`- Date: ${new Date().toISOString()}`);
  lines.push(`- Machine: ${osName()}; CPU: ${cpuModel()}, ${os.cpus().length} cores; ${Math.round(os.totalmem() / GiB)} GiB RAM; Node ${process.version}`);
  lines.push(`- Library: ${libraryBuild()}`);
  lines.push(`- Load average (1 min) at the start and end of the run: ${load.map((l) => l.toFixed(2)).join(' → ')}. The machine may be shared (other processes, other test runs): every figure is a median over alternated runs and every ratio is taken within one run, which cancels slow drifts, but not bursts of foreign load.`);
  lines.push(`- Mode: ${quick ? 'quick smoke run (1 run, short durations; not representative)' : `median of ${runs} runs, servers alternated within each run${interleaved ? `; echoes interleaved (all servers of a run up at once, taking turns in ${SLOT_MS} ms slots)` : ''}`}; ${fmt(warmupMs)} ms warm-up (${quick ? 'all runs' : `${fmt(BIG_ECHO_WARMUP_MS)} ms for echoes of 64 KiB and more`}) + ${fmt(durationMs)} ms measured per echo run; took ${minutes.toFixed(1)} min`);
  const bu = infos['ws+bufferutil']?.bufferutil;
  lines.push(`- ws: ${readWsVersion()}; column "ws" with pure-JS masking (WS_NO_BUFFER_UTIL=1), column "ws + bufferutil" with the native addon ${bu === 'yes' ? `(bufferutil ${readVersion('bufferutil')} loaded)` : '(NOT loaded: see notes)'}; ceiling column: plain TCP echo (node:crypto SHA-256 for sha256-4g)`);
  lines.push('- Cells: median absolute value, and in parentheses the median of the per-run ratios to plain ws. MB/s = 10^6 payload bytes per second. A cell with fewer runs than asked says so.');
  lines.push('');
  const baseLabels = BASE_PAIRS.map((p) => p[2]);
  const baseCells = (ratios) => baseLabels.map((l) => {
    const r = ratios?.[l];
    if (!r || !Number.isFinite(r.median)) return ' | ';
    return ` | ${r.median.toFixed(2)}×${r.low !== undefined ? ` [${r.low.toFixed(2)}–${r.high.toFixed(2)}]` : ''}`;
  });
  lines.push(`| scenario | metric | ${COLUMNS.map((c) => COLUMN_TITLES[c]).join(' | ')}${baseLabels.map((l) => ` | ${l}`).join('')} |`);
  lines.push(`|---|---|${COLUMNS.map(() => '---:').join('|')}${baseLabels.map(() => '|---:').join('')}|`);
  for (const row of table) lines.push(`| ${row.scenario} | ${row.metric} | ${COLUMNS.map((c) => cell(row.cells[c])).join(' | ')}${baseCells(row.base).join('')} |`);
  const notes = [];
  for (const row of table) {
    for (const c of COLUMNS) {
      const e = row.cells[c]?.error;
      if (e && !notes.some((n) => n.endsWith(e))) notes.push(`${row.scenario} / ${c}: ${e}`);
    }
  }
  if (notes.length) lines.push('', 'Notes:', ...notes.map((n) => `- ${n}`));
  const cpuRows = table.filter((r) => r.cpu);
  if (cpuRows.length) {
    lines.push('', 'CPU during the measurement: loadgen / server (median % of one core; the side near 100 % is the limit; for the ceiling it is usually the loadgen), and the server\'s CPU time per echoed message (less noisy than the rates on a shared machine):', '');
    lines.push(`| scenario | ${COLUMNS.map((c) => COLUMN_TITLES[c]).join(' | ')}${baseLabels.map((l) => ` | ${l} (µs/msg)`).join('')} |`);
    lines.push(`|---|${COLUMNS.map(() => '---:').join('|')}${baseLabels.map(() => '|---:').join('')}|`);
    const pc = (x) => (Number.isFinite(x) ? x.toFixed(0) : '?');
    for (const r of cpuRows) lines.push(`| ${r.scenario} | ${COLUMNS.map((c) => (r.cpu[c] && Number.isFinite(r.cpu[c][0]) ? `${pc(r.cpu[c][0])} / ${pc(r.cpu[c][1])} %, ${fmt(r.cpu[c][2])} µs/msg` : '')).join(' | ')}${baseCells(r.cpuBase).join('')} |`);
  }
  const t = targets(table);
  if (t.length) {
    lines.push('', '## Targets (issue 6)', '');
    if (bu !== 'yes' && table.some((r) => r.cells['ws+bufferutil'])) lines.push('ws could not load its native bufferutil addon, so the "ws+bufferutil" ratios are against pure-JS ws.', '');
    lines.push('| target | measured | status |', '|---|---:|---|');
    for (const [a, b, c] of t) lines.push(`| ${a} | ${b} | ${c} |`);
  }
  lines.push('');
  return lines.join('\n');
}

/** Which build of ours was measured: the commit, and the copy of dist/ if BENCH_DIST named one. */
function libraryBuild() {
  let commit = '?';
  try {
    commit = execSync('git describe --always --dirty', { cwd: path.join(here, '..'), stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {}
  const dist = process.env.BENCH_DIST;
  return `commit ${commit}${dist ? `, loaded from ${dist} (BENCH_DIST)` : ', dist/'}${baseDist ? `; @base columns: the build in ${baseDist} (BENCH_BASE_DIST), in the same runs` : ''}`;
}

function readVersion(pkg) {
  try {
    return JSON.parse(fs.readFileSync(path.join(here, '..', 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

function readWsVersion() {
  return `ws ${readVersion('ws')}`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
