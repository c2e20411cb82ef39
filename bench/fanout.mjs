// `npm run bench -- fanout`: one publisher, N subscribers spread over 1, 2 and 4 server processes
// joined through Redis, against one process with no Redis at all (Topics), layouts alternated
// run by run. Every process is its own: the servers (servers/ours-fanout.mjs, one listener each,
// as behind nginx with one upstream per process), the subscriber load generators, the publisher
// (fanout-clients.mjs) and a redis-server started here on a free loopback port and stopped at the
// end. Reports messages delivered per second, p50/p99 delivery latency, and the CPU time per
// delivered message of the servers (process.cpuUsage over IPC) and of Redis (/proc/<pid>/task/*/schedstat). See
// bench/README.md.
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { histPercentile, HIST_BUCKETS, procIo } from './loadgen.mjs';
import { cpuNs, serverStats, startServer, stopServer } from './processes.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The layouts, in the order they are alternated within a run. */
export const FANOUT_LAYOUTS = [
  { name: 'local-1', title: '1 process, Topics (no Redis)', processes: 1, redis: false },
  { name: 'redis-1', title: '1 process, Redis', processes: 1, redis: true },
  { name: 'redis-2', title: '2 processes, Redis', processes: 2, redis: true },
  { name: 'redis-4', title: '4 processes, Redis', processes: 4, redis: true },
];

/** A loopback port nobody listens on right now. */
async function freePort() {
  const probe = net.createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** redis-server on a free loopback port, no persistence, its files in a temp dir; `stop()` ends it. */
async function startRedis() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-redis-'));
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const failed = new Promise((resolve) => child.once('error', (err) => resolve(err)));
  // The last resort if this process ends without stop() (an uncaught error): no redis-server left behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      await gone;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // Bounded: 200 connect attempts 25 ms apart.
  for (let i = 0; i < 200 && child.exitCode === null; i++) {
    const up = await Promise.race([failed.then(() => false), new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    })]);
    if (up) return { url: `redis://127.0.0.1:${port}`, pid: child.pid, stop };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const err = await Promise.race([failed, Promise.resolve(null)]);
  await stop();
  throw new Error(`redis-server did not start${err ? `: ${err.message} (apt-get install redis-server)` : ''}`);
}

/** Forks one fan-out client process; `on(message)` sees its messages until its result or error. */
function startClient(job, on, timeoutMs) {
  const child = fork(path.join(here, 'fanout-clients.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.on('error', () => {}); // a send to a process that just exited: its exit is what counts
  const result = new Promise((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve({ error: `${job.role} timed out after ${timeoutMs} ms` }); }, timeoutMs);
    const done = (v) => { clearTimeout(timer); resolve(v); };
    child.on('message', (m) => {
      if (m?.type === 'result') done({ result: m.result });
      else if (m?.type === 'error') done({ error: m.message });
      else on(m, child);
    });
    child.once('exit', (code) => done({ error: `${job.role} exited with code ${code}` }));
  });
  child.send({ type: 'job', job });
  return { child, result };
}

/** Ends a client process that is still there (the publisher waits for this; a subscriber may be exiting). */
function endClient(child) {
  if (!child.connected) return;
  child.send({ type: 'close' }, () => { if (child.connected) child.disconnect(); });
}

/** One run of one layout. Returns `{ values }` or `{ error }`. */
async function measureLayout(layout, o, redis) {
  const env = layout.redis ? { REDIS_URL: redis.url } : {};
  const servers = [];
  const clients = [];
  try {
    for (let i = 0; i < layout.processes; i++) {
      const s = await startServer('ours-fanout.mjs', [], env);
      if (s.unavailable || s.error) return { error: s.unavailable ?? s.error };
      servers.push(s);
    }
    const ports = servers.map((s) => s.port);
    const warmupMessages = Math.max(1, Math.round((o.rate * o.warmupMs) / 1000));
    const measuredMessages = Math.max(1, Math.round((o.rate * o.durationMs) / 1000));
    const base = { host: '127.0.0.1', mode: 'ws', ports, size: o.size, firstMeasured: warmupMessages, measuredMessages };
    const timeoutMs = o.warmupMs + o.durationMs + 60_000;
    const procs = Math.max(1, Math.min(o.loadgenProcs, o.subscribers));
    const ready = [];
    const subs = [];
    for (let i = 0; i < procs; i++) {
      const connections = Math.floor(o.subscribers / procs) + (i < o.subscribers % procs ? 1 : 0);
      let onReady;
      ready.push(new Promise((resolve) => (onReady = resolve)));
      const c = startClient({ ...base, role: 'subscribers', connections, timeoutMs }, (m) => { if (m?.type === 'ready') onReady(); }, timeoutMs + 60_000);
      clients.push(c.child);
      subs.push(c.result);
    }
    const early = await Promise.race([Promise.all(ready).then(() => null), Promise.race(subs)]);
    if (early?.error) return { error: early.error };
    let at0 = null;
    const pub = startClient({ ...base, role: 'publisher', rate: o.rate, warmupMessages, measuredMessages }, async (m, child) => {
      if (m?.type !== 'mark') return;
      at0 = { cpu: await serversCpu(servers), redis: layout.redis ? cpuNs(redis.pid) : NaN, writes: serversWrites(servers) };
      child.send({ type: 'go', phase: m.phase });
    }, timeoutMs);
    clients.push(pub.child);
    const [p, ...s] = await Promise.all([pub.result, ...subs]);
    const failed = [p, ...s].find((r) => r.error);
    if (failed) return { error: failed.error };
    const at1 = { cpu: await serversCpu(servers), redis: layout.redis ? cpuNs(redis.pid) : NaN, writes: serversWrites(servers) };
    const delivered = s.reduce((a, r) => a + r.result.delivered, 0);
    const expected = o.subscribers * measuredMessages;
    if (delivered !== expected) return { error: `${delivered} of ${expected} messages delivered` };
    const spanUs = Math.max(...s.map((r) => r.result.lastAtUs)) - p.result.firstMeasuredUs;
    const hist = new Array(HIST_BUCKETS).fill(0);
    for (const r of s) r.result.hist.forEach((n, i) => { hist[i] += n; });
    const serverUs = at1.cpu - at0.cpu;
    return {
      values: {
        'msgs/s': (delivered / spanUs) * 1e6,
        'p50 ms': histPercentile(hist, 0.5) / 1000,
        'p99 ms': histPercentile(hist, 0.99) / 1000,
        'server µs/msg': serverUs / delivered,
        'redis µs/msg': (at1.redis - at0.redis) / 1000 / delivered,
        'redis µs/publish': (at1.redis - at0.redis) / 1000 / measuredMessages,
        'server CPU %': (serverUs / spanUs) * 100,
        'server writes/msg': (at1.writes - at0.writes) / delivered,
        'loadgen CPU %': s.reduce((a, r) => a + r.result.cpu, 0),
      },
    };
  } finally {
    for (const c of clients) endClient(c);
    await Promise.all(servers.map((s) => stopServer(s.child)));
  }
}

/** The servers' write system calls so far (/proc/<pid>/io syscw: write(2) and writev(2) on every socket), summed. */
function serversWrites(servers) {
  return servers.reduce((a, s) => a + (procIo(s.child.pid)?.syscw ?? NaN), 0);
}

/** The servers' CPU time so far (user + system, µs), summed; NaN if one did not answer. */
async function serversCpu(servers) {
  const stats = await Promise.all(servers.map((s) => serverStats(s.child)));
  return stats.reduce((a, st) => a + (st ? st.cpu.user + st.cpu.system : NaN), 0);
}

const METRICS = ['msgs/s', 'p50 ms', 'p99 ms', 'server µs/msg', 'server writes/msg', 'redis µs/msg', 'redis µs/publish', 'server CPU %'];

/**
 * Runs the layouts `o.runs` times, alternated, and returns the markdown table of the medians.
 * `o`: { runs, warmupMs, durationMs, subscribers, rate, size, loadgenProcs, layouts, fmt, median }.
 */
export async function runFanout(o) {
  const layouts = FANOUT_LAYOUTS.filter((l) => !o.layouts || o.layouts.includes(l.name));
  console.log(`fanout: ${o.subscribers} subscribers, 1 publisher at ${o.rate} msgs/s, ${o.size}-byte messages; ${layouts.map((l) => l.name).join(', ')}; ${o.runs} run(s) each`);
  const redis = layouts.some((l) => l.redis) ? await startRedis() : null;
  const stopRedis = () => redis?.stop();
  process.once('SIGINT', () => { void Promise.resolve(stopRedis()).finally(() => process.exit(130)); });
  let redisIdle = NaN;
  if (redis) {
    // What Redis costs doing nothing (its housekeeping timer), to read its cost per message against.
    const idle0 = cpuNs(redis.pid);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    redisIdle = (cpuNs(redis.pid) - idle0) / 2000;
    console.log(`redis-server idle: ${o.fmt(redisIdle)} µs of CPU per second`);
  }
  const samples = Object.fromEntries(layouts.map((l) => [l.name, []]));
  const errors = {};
  try {
    for (let r = 0; r < o.runs; r++) {
      for (const l of layouts) {
        const m = await measureLayout(l, o, redis);
        if (m.error) {
          errors[l.name] = m.error;
          console.log(`  fanout run ${r + 1} ${l.name}: ERROR ${m.error}`);
          continue;
        }
        samples[l.name].push(m.values);
        console.log(`  fanout run ${r + 1} ${l.name}: ${METRICS.map((k) => `${o.fmt(m.values[k])} ${k}`).join(', ')}, loadgen CPU ${o.fmt(m.values['loadgen CPU %'])} %`);
      }
    }
  } finally {
    await stopRedis();
  }
  const lines = [
    `| layout (${o.subscribers} subscribers, ${o.rate} msgs/s published) | delivered msgs/s | p50 ms | p99 ms | server CPU µs per delivered msg | server write calls per delivered msg | Redis CPU µs per delivered msg | Redis CPU µs per published msg | servers' CPU, % of one core |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const l of layouts) {
    const med = (k) => o.median(samples[l.name].map((v) => v[k]));
    const n = samples[l.name].length;
    const note = n < o.runs ? ` [${n} of ${o.runs} runs${errors[l.name] ? `: ${errors[l.name]}` : ''}]` : '';
    lines.push(`| ${l.title}${note} | ${METRICS.map((k) => (l.redis || !k.startsWith('redis') ? o.fmt(med(k)) : '—')).join(' | ')} |`);
  }
  if (redis) lines.push('', `redis-server idle: ${o.fmt(redisIdle)} µs of CPU per second (included in its per-message figures).`);
  return lines.join('\n');
}
