// What one message split into N one-byte fragments costs a server that echoes frame by frame
// (the reasoning behind the `maxFragments` default, README "Limits and defaults").
//
//   node bench/fragments.mjs [N ...]        (default 1024 16384 100000; build first: loads dist/)
//
// Each figure is the median of 3 runs (the machine is shared).
//
// In one process: the server (from dist/) and a raw TCP client that writes the whole message,
// prebuilt, in one write and only counts the bytes echoed, so the process's CPU time
// (process.cpuUsage) is the server's work. Per server kind and N: CPU time for the message,
// CPU per fragment, and the peak growth of heap and RSS while it is handled (sampled every
// 2 ms over a GC'd baseline). Servers: the stream tier's `readable.pipeTo(writable)`, the
// Autobahn frame-based tier (onMessageFrame → sendMessageFrame), and `msg.bytes()` (collect,
// then send), each with `maxFragments: Infinity`.
import { createRequire } from 'node:module';
import { connect as tcpConnect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const require = createRequire(import.meta.url);
const { serve, WebSocketServerFactory, WebSocketServerProtocol, listenWS } = require('../dist/node.cjs');

const KEY = Buffer.from([1, 2, 3, 4]);
const UPGRADE = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

/** N masked one-byte binary fragments: 7 bytes each on the wire. */
function fragmentedMessage(n) {
  const out = Buffer.alloc(7 * n);
  for (let i = 0; i < n; i++) {
    const at = 7 * i;
    out[at] = (i === n - 1 ? 0x80 : 0) | (i === 0 ? 0x2 : 0x0);
    out[at + 1] = 0x80 | 1;
    KEY.copy(out, at + 2);
    out[at + 6] = (i & 0xff) ^ KEY[0];
  }
  return out;
}

const servers = {
  'stream tier pipeTo echo': async (opts) => serve(opts, (conn) => void conn.readable.pipeTo(conn.writable).catch(() => {})),
  'Autobahn frame tier echo': async (opts) => {
    class FrameEcho extends WebSocketServerProtocol {
      onMessageBegin(isBinary) { this.beginMessage(isBinary); }
      onMessageFrame(payload) { return this.sendMessageFrame(payload); }
      onMessageEnd() { return this.endMessage(); }
    }
    const factory = new WebSocketServerFactory(`ws://127.0.0.1:0`, { maxFragments: opts.maxFragments });
    factory.protocol = FrameEcho;
    const s = await listenWS(factory);
    return { port: s.port ?? s.address?.port, close: () => s.close() };
  },
  'stream tier msg.bytes() then send': async (opts) => serve(opts, async (conn) => {
    for await (const msg of conn) await conn.send(await msg.bytes());
  }),
};

async function measure(kind, n) {
  const server = await servers[kind]({ host: '127.0.0.1', port: 0, maxFragments: Infinity, maxMessageSize: Infinity });
  const port = server.port;
  const wire = fragmentedMessage(n);
  const socket = tcpConnect({ host: '127.0.0.1', port });
  await new Promise((r) => socket.once('connect', r));
  socket.write(UPGRADE);
  let head = '';
  await new Promise((resolve) => {
    const onData = (d) => {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) { socket.off('data', onData); resolve(); }
    };
    socket.on('data', onData);
  });
  // The echo comes back frame for frame (3 bytes a one-byte frame) or whole (bytes(): 4 + 8 + N at most).
  const whole = kind.includes('bytes()');
  const expected = whole ? n + (n > 65535 ? 10 : n > 125 ? 4 : 2) : 3 * n;
  gc(); gc();
  const base = process.memoryUsage();
  let peakHeap = 0;
  let peakRss = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed - base.heapUsed);
    peakRss = Math.max(peakRss, m.rss - base.rss);
  }, 2);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let got = 0;
  await new Promise((resolve) => {
    socket.on('data', (d) => { got += d.length; if (got >= expected) resolve(); });
    socket.write(wire);
  });
  const cpu = process.cpuUsage(cpu0);
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  clearInterval(sampler);
  const m = process.memoryUsage();
  peakHeap = Math.max(peakHeap, m.heapUsed - base.heapUsed);
  peakRss = Math.max(peakRss, m.rss - base.rss);
  socket.destroy();
  await server.close();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return { kind, n, cpuMs, usPerFragment: (cpuMs * 1000) / n, wallMs: wall, peakHeapMiB: peakHeap / 2 ** 20, peakRssMiB: peakRss / 2 ** 20 };
}

const ns = process.argv.slice(2).map(Number).filter((x) => x > 0);
const sizes = ns.length > 0 ? ns : [1_024, 16_384, 100_000];
const RUNS = 3;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x, d = 1) => x.toFixed(d);
console.log('| server | fragments | CPU ms | µs/fragment | wall ms | peak heap growth MiB | peak RSS growth MiB |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const kind of Object.keys(servers)) {
  await measure(kind, 2_000); // warm-up: JIT, slab, the server's first connection
  for (const n of sizes) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await measure(kind, n));
    const r = Object.fromEntries(['cpuMs', 'usPerFragment', 'wallMs', 'peakHeapMiB', 'peakRssMiB'].map((k) => [k, median(runs.map((x) => x[k]))]));
    console.log(`| ${kind} | ${n} | ${fmt(r.cpuMs)} | ${fmt(r.usPerFragment, 2)} | ${fmt(r.wallMs)} | ${fmt(r.peakHeapMiB)} | ${fmt(r.peakRssMiB)} |`);
  }
}
process.exit(0);
