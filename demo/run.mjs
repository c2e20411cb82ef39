#!/usr/bin/env node
// `npm run demo`: Autobahn's "streaming" demo (SHA-256 of data sent over WebSocket) on the
// stream tier, end to end on an embedded server (a child process, so its memory is its own).
//
//   1. message-based: 1 MiB messages; the server hashes each and replies with the digest.
//   2. frame-based:   one message of 1 MiB frames; the server replies with its running digest
//                     after every frame.
//   3. streaming:     one message, ONE frame whose length covers everything, sent in 1 MiB
//                     batches; the server replies with its running digest at every 1 MiB
//                     boundary of the stream, however TCP splits it.
// Every digest is checked against the client's own. Usage: npm run demo -- [--size MiB]
import { fork } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MiB = 1024 * 1024;
const dist = new URL('../dist/node.mjs', import.meta.url);
if (!existsSync(fileURLToPath(dist))) {
  console.error('dist/ is missing: run `npm install` (it builds) or `npm run build` first');
  process.exit(1);
}
const { serve, connect } = await import(dist.href);

if (process.argv[2] === '--server') await runServer();
else await runClient();

// ----------------------------------------------------------------------------- server ----

async function runServer() {
  let baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
  const unlimited = { maxMessageSize: Number.MAX_SAFE_INTEGER, maxFrameSize: Number.MAX_SAFE_INTEGER, maxFragments: Number.MAX_SAFE_INTEGER };
  const server = await serve({ host: '127.0.0.1', port: 0, ...unlimited }, async (conn) => {
    const path = conn.handshake.path;
    for await (const msg of conn) {
      if (path === '/message') {
        // Message-based: the whole message streams through the hash; nothing is buffered.
        const hash = createHash('sha256');
        await msg.stream().pipeTo(new WritableStream({ write: (c) => void hash.update(c) }));
        await conn.send(hash.digest('hex'));
      } else if (path === '/frame') {
        // Frame-based: a running digest after every frame of the one message.
        const hash = createHash('sha256');
        for await (const frame of msg.frames) {
          await frame.data.pipeTo(new WritableStream({ write: (c) => void hash.update(c) }));
          await conn.send(hash.copy().digest('hex'));
        }
      } else {
        // Streaming: a digest tap at every 1 MiB boundary of the byte stream.
        const hash = createHash('sha256');
        let seen = 0;
        await msg.stream().pipeTo(new WritableStream({
          async write(chunk) {
            while (chunk.length > 0) {
              const toBoundary = MiB - (seen % MiB);
              const part = chunk.subarray(0, toBoundary);
              hash.update(part);
              seen += part.length;
              chunk = chunk.subarray(part.length);
              if (seen % MiB === 0) await conn.send(hash.copy().digest('hex'));
            }
          },
        }));
      }
    }
  });
  process.send({ type: 'listening', port: server.address.port });
  process.on('message', (m) => {
    if (m === 'rss') process.send({ type: 'rss', growth: peak - baseline });
    if (m === 'reset') peak = baseline = process.memoryUsage().rss;
    if (m === 'exit') { clearInterval(sampler); server.close().then(() => process.exit(0)); }
  });
}

// ----------------------------------------------------------------------------- client ----

async function runClient() {
  const sizeArg = process.argv.indexOf('--size');
  const sizeMiB = sizeArg > 0 ? Number(process.argv[sizeArg + 1]) : 256;
  if (!(sizeMiB >= 1) || !Number.isInteger(sizeMiB)) {
    console.error(`--size takes a whole number of MiB (≥ 1), got ${process.argv[sizeArg + 1]}`);
    process.exit(2);
  }
  const child = fork(fileURLToPath(import.meta.url), ['--server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const fromServer = (type) => new Promise((resolve) => {
    const on = (m) => { if (m?.type === type) { child.off('message', on); resolve(m); } };
    child.on('message', on);
  });
  const { port } = await fromServer('listening');
  console.log(`websocket-streams demo: embedded server on ws://127.0.0.1:${port}, ${sizeMiB} MiB per variant\n`);

  const variants = [
    ['message-based', '/message', messageBased],
    ['frame-based', '/frame', frameBased],
    ['streaming (one frame)', '/stream', streaming],
  ];
  let failed = false;
  const results = [];
  for (const [name, path, run] of variants) {
    child.send('reset');
    const conn = await connect(`ws://127.0.0.1:${port}${path}`);
    const progress = bar(name, sizeMiB);
    const t0 = performance.now();
    const { matched, total } = await run(conn, sizeMiB, progress);
    const seconds = (performance.now() - t0) / 1000;
    await conn.close(1000);
    child.send('rss');
    const { growth } = await fromServer('rss');
    progress.done();
    if (matched !== total) failed = true;
    results.push({ name, matched, total, mbps: (sizeMiB * MiB) / seconds / 1e6, rss: growth / MiB });
    console.log(`${name}: ${matched}/${total} digests matched, ${((sizeMiB * MiB) / seconds / 1e6).toFixed(0)} MB/s, server peak RSS growth ${(growth / MiB).toFixed(1)} MiB`);
  }
  child.send('exit');
  await new Promise((resolve) => child.once('exit', resolve));
  console.log(`\n${failed ? 'MISMATCH: some digests differed' : 'All digests matched'}: ${sizeMiB} MiB per variant through a server whose memory stayed at ${Math.max(...results.map((r) => r.rss)).toFixed(1)} MiB of growth at most.`);
  process.exitCode = failed ? 1 : 0;
}

/** Fresh random data for chunk `i` (1 MiB), never more than one chunk in memory. */
function chunkOf(buf) {
  return randomFillSync(buf);
}

async function messageBased(conn, sizeMiB, progress) {
  let matched = 0;
  const buf = Buffer.alloc(MiB);
  for (let i = 0; i < sizeMiB; i++) {
    const data = chunkOf(buf);
    const mine = createHash('sha256').update(data).digest('hex');
    await conn.send(data);
    const theirs = await (await conn.nextMessage()).text();
    if (theirs === mine) matched++;
    progress.tick(i + 1, `Digest for message ${i + 1} computed by server: ${theirs}`);
  }
  return { matched, total: sizeMiB };
}

async function frameBased(conn, sizeMiB, progress) {
  let matched = 0;
  const hash = createHash('sha256');
  const buf = Buffer.alloc(MiB);
  const w = conn.beginMessage('binary');
  for (let i = 0; i < sizeMiB; i++) {
    const data = chunkOf(buf);
    hash.update(data);
    await w.sendFrame(data, { fin: i === sizeMiB - 1 });
    const theirs = await (await conn.nextMessage()).text();
    if (theirs === hash.copy().digest('hex')) matched++;
    progress.tick(i + 1, `Running digest after frame ${i + 1}: ${theirs}`);
  }
  return { matched, total: sizeMiB };
}

async function streaming(conn, sizeMiB, progress) {
  let matched = 0;
  const hash = createHash('sha256');
  const buf = Buffer.alloc(MiB);
  const w = conn.beginMessage('binary');
  const frame = w.beginFrame(sizeMiB * MiB, { fin: true }).getWriter();
  for (let i = 0; i < sizeMiB; i++) {
    const data = chunkOf(buf);
    hash.update(data);
    await frame.write(new Uint8Array(data)); // a copy: the buffer is refilled next round
    const theirs = await (await conn.nextMessage()).text();
    if (theirs === hash.copy().digest('hex')) matched++;
    progress.tick(i + 1, `Running digest at ${i + 1} MiB: ${theirs}`);
  }
  await frame.close();
  return { matched, total: sizeMiB };
}

/** A progress bar on a terminal, a line every 10 % otherwise. */
function bar(name, total) {
  const tty = process.stdout.isTTY;
  let lastPct = -1;
  return {
    tick(n, line) {
      const pct = Math.floor((n / total) * 100);
      if (tty) {
        const w = 30;
        const fill = Math.round((n / total) * w);
        process.stdout.write(`\r${name.padEnd(22)} [${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${String(pct).padStart(3)}%`);
      } else if (n === 1 || pct >= lastPct + 10 || n === total) {
        console.log(`  ${line}`);
        lastPct = pct;
      }
    },
    done() { if (tty) process.stdout.write('\r\x1b[2K'); },
  };
}
