#!/usr/bin/env node
// `npm run demo`: Autobahn's streaming demo (SHA-256 of data sent over WebSocket), every
// variant of demo/streaming/ end to end. Each variant's server runs in a child process of its
// own on a free loopback port, so its memory is measured alone; the client runs here.
//
//   Autobahn tier (WebSocketServerProtocol / WebSocketClientProtocol, listenWS / connectWS):
//   1. message-based:   1 MiB messages; onMessage answers each with its digest.
//   2. frame-based:     one message of 1 MiB frames; onMessageFrame answers with the running
//                       digest after every frame.
//   3. streaming:       one message of ONE frame declared as 2^63 − 1 bytes, sent in 1 MiB
//                       batches; onMessageFrameData hashes as TCP delivers and answers with the
//                       running digest at every 1 MiB boundary.
//   4. producer-paced:  the same server; the client writes 1 KiB pieces as fast as
//                       backpressure allows and checks the digests as they come.
//   Stream tier (serve / connect): 5–7, the same three jobs with msg.stream(), msg.frames and
//   a digest tap.
//
// Every digest is checked against the client's own. Usage: npm run demo -- [--size MiB]
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MiB = 1024 * 1024;
if (!existsSync(fileURLToPath(new URL('../dist/node.mjs', import.meta.url)))) {
  console.error('dist/ is missing: run `npm install` (it builds) or `npm run build` first');
  process.exit(1);
}

const VARIANTS = [
  ['Autobahn message-based', 'message-server.mjs', 'message-client.mjs'],
  ['Autobahn frame-based', 'frame-server.mjs', 'frame-client.mjs'],
  ['Autobahn streaming', 'streaming-server.mjs', 'streaming-client.mjs'],
  ['Autobahn producer-paced', 'streaming-server.mjs', 'producer-client.mjs'],
  ['stream tier message-based', 'stream-tier-message-server.mjs', 'stream-tier-message-client.mjs'],
  ['stream tier frame-based', 'stream-tier-frame-server.mjs', 'stream-tier-frame-client.mjs'],
  ['stream tier streaming', 'stream-tier-streaming-server.mjs', 'stream-tier-streaming-client.mjs'],
];

const sizeArg = process.argv.indexOf('--size');
const sizeMiB = sizeArg > 0 ? Number(process.argv[sizeArg + 1]) : 256;
if (!(sizeMiB >= 1) || !Number.isInteger(sizeMiB)) {
  console.error(`--size takes a whole number of MiB (≥ 1), got ${process.argv[sizeArg + 1]}`);
  process.exit(2);
}
const WARM_UP_MiB = Math.min(8, sizeMiB);

console.log(`websocket-streams demo: Autobahn's SHA-256 streaming demo, ${sizeMiB} MiB per variant, each server in its own process on 127.0.0.1`);
console.log('(streaming variants send one frame of 2^63 − 1 bytes: their servers opt in with maxFrameSize: Infinity)\n');
const results = [];
for (const [name, serverFile, clientFile] of VARIANTS) {
  const server = await startServer(serverFile);
  const { run } = await import(new URL(`./streaming/${clientFile}`, import.meta.url).href);
  const url = `ws://127.0.0.1:${server.port}`;
  const progress = bar(name, sizeMiB);
  progress.start();
  server.child.send('reset');
  // A short first run lets V8 size its heap (young generation, code); the growth measured
  // after it is what the data itself costs.
  const warm = await run(url, { count: WARM_UP_MiB });
  const { growth: warmUpGrowth } = await server.ask('rss');
  server.child.send('reset');
  const t0 = performance.now();
  const r = await run(url, { count: sizeMiB, onDigest: (line, n) => progress.tick(n, line) });
  const seconds = (performance.now() - t0) / 1000;
  const { growth } = await server.ask('rss');
  progress.done();
  await server.stop();
  const res = { name, ...r, warmOk: warm.matched === warm.total, mbps: r.bytes / seconds / 1e6, rssMiB: growth / MiB, warmUpMiB: warmUpGrowth / MiB };
  results.push(res);
  const closed = r.close.code === 1006 ? 'closed 1006: TCP ended inside the endless frame' : `closed ${r.close.code}`;
  console.log(`${name.padEnd(26)} ${`${r.matched}/${r.total}`.padStart(9)} digests matched  ${res.mbps.toFixed(0).padStart(4)} MB/s  server peak RSS growth ${res.rssMiB.toFixed(1).padStart(5)} MiB (warm-up ${res.warmUpMiB.toFixed(1)} MiB)  ${closed}`);
}
const failed = results.filter((r) => r.matched !== r.total || r.total !== sizeMiB || !r.warmOk);
console.log(`\n${failed.length ? `MISMATCH in ${failed.map((r) => r.name).join(', ')}` : 'All digests matched'}: ${sizeMiB} MiB per variant; after their ${WARM_UP_MiB} MiB warm-up the servers grew by ${Math.max(...results.map((r) => r.rssMiB)).toFixed(1)} MiB of RSS at most.`);
process.exitCode = failed.length ? 1 : 0;

/** Forks a demo/streaming server on port 0 with an IPC channel (see `announce` in shared.mjs). */
async function startServer(file) {
  const child = fork(fileURLToPath(new URL(`./streaming/${file}`, import.meta.url)), ['--port', '0'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const ask = (question) => new Promise((resolve, reject) => {
    const on = (m) => {
      if (m?.type !== (question === 'rss' ? 'rss' : 'listening')) return;
      child.off('message', on);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code) => reject(new Error(`${file} exited with ${code}`));
    child.on('message', on);
    child.once('exit', onExit);
    if (question) child.send(question);
  });
  const { port } = await ask(undefined);
  return {
    child,
    port,
    ask,
    stop: () => new Promise((resolve) => {
      child.once('exit', resolve);
      child.send('exit');
    }),
  };
}

/** A progress bar on a terminal, a line every 10 % otherwise. */
function bar(name, total) {
  const tty = process.stdout.isTTY;
  let lastPct = -1;
  return {
    start() {
      if (tty) process.stdout.write(`${name.padEnd(26)} warming up (${WARM_UP_MiB} MiB)…`);
    },
    tick(n, line) {
      const pct = Math.floor((n / total) * 100);
      if (tty) {
        const w = 30;
        const fill = Math.round((n / total) * w);
        process.stdout.write(`\r${name.padEnd(26)} [${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${String(pct).padStart(3)}%`);
      } else if (n === 1 || pct >= lastPct + 10 || n === total) {
        console.log(`  ${line}`);
        lastPct = pct;
      }
    },
    done() {
      if (tty) process.stdout.write('\r\x1b[2K');
    },
  };
}
