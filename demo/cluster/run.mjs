#!/usr/bin/env node
// `npm run demo:cluster`: the whole picture on this machine, each piece its own process(es):
//   redis-server   on a free loopback port, no persistence (skipped when REDIS_URL is set)
//   server.mjs     node:cluster, --workers processes on one port, joined through Redis
//   nginx          demo/cluster/nginx.conf with this run's ports, in a temporary prefix directory
//   client.mjs     clients through nginx: every message reaches every client, across workers
// and then stops everything it started, also when a step fails or on Ctrl-C.
//
//   npm run demo:cluster -- [--workers 2] [--clients 4] [--messages 3]
import { spawn, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { run, report } from './client.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const { values } = parseArgs({ options: { workers: { type: 'string' }, clients: { type: 'string' }, messages: { type: 'string' } } });
const workers = Number(values.workers ?? 2);
const clients = Number(values.clients ?? 4);
const messages = Number(values.messages ?? 3);

/** A loopback port nobody listens on right now. */
async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Resolves once something accepts on the port (bounded: 200 tries 25 ms apart), or rejects. */
async function waitForPort(port, child, what) {
  for (let i = 0; i < 200 && child.exitCode === null; i++) {
    const ok = await new Promise((resolve) => {
      const s = netConnect({ host: '127.0.0.1', port });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${what} did not listen on 127.0.0.1:${port}`);
}

/** nginx.conf with this run's ports: the file in the repo, ${LISTEN_PORT} and ${WORKERS_PORT} filled in. */
function renderNginxConf(ports) {
  const template = readFileSync(join(here, 'nginx.conf'), 'utf8');
  return template.replace(/\$\{(LISTEN_PORT|WORKERS_PORT)\}/g, (_, name) => String(name === 'LISTEN_PORT' ? ports.listen : ports.workers));
}

const stops = []; // run in reverse order at the end
async function stopAll() {
  for (const stop of stops.reverse()) await stop().catch((err) => console.error(err));
  stops.length = 0;
}
/** Stops a child we started: SIGTERM, and SIGKILL if it has not exited 5 s later. */
function stopper(child) {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
}
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => stopAll().then(() => process.exit(130)));

try {
  const dir = mkdtempSync(join(tmpdir(), 'ws-cluster-demo-'));
  stops.push(async () => rmSync(dir, { recursive: true, force: true }));

  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    const port = await freePort();
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    redis.once('error', (err) => console.error(`redis-server: ${err.message} (apt-get install redis-server, or set REDIS_URL)`));
    stops.push(stopper(redis));
    await waitForPort(port, redis, 'redis-server');
    redisUrl = `redis://127.0.0.1:${port}`;
    console.log(`redis-server ${redis.pid} on ${redisUrl}`);
  }

  const server = fork(join(here, 'server.mjs'), ['--workers', String(workers)], { env: { ...process.env, PORT: '0', REDIS_URL: redisUrl }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  stops.push(stopper(server));
  const workersPort = await new Promise((resolve, reject) => {
    server.stdout.setEncoding('utf8').on('data', (d) => {
      const m = /listening on ws:\/\/[^:]+:(\d+)/.exec(d);
      if (m) resolve(Number(m[1]));
    });
    server.once('exit', (code) => reject(new Error(`server.mjs exited with ${code} before listening`)));
  });
  console.log(`server.mjs: ${workers} workers on 127.0.0.1:${workersPort}`);

  const listen = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), renderNginxConf({ listen, workers: workersPort }));
  const nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: 'inherit' });
  nginx.once('error', (err) => console.error(`nginx: ${err.message} (apt-get install nginx)`));
  stops.push(stopper(nginx));
  await waitForPort(listen, nginx, 'nginx');
  console.log(`nginx ${nginx.pid} on ws://127.0.0.1:${listen} → 127.0.0.1:${workersPort}\n`);

  const result = await run(`ws://127.0.0.1:${listen}`, { clients, messages, log: console.log });
  process.exitCode = report(result, messages) ? 0 : 1;
} catch (err) {
  console.error(err?.message ?? err);
  process.exitCode = 1;
} finally {
  await stopAll();
}
