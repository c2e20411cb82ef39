// `node bench/inbound.mjs [--piece 64] [--size 1048576] [--messages 20] [--runs 5] [--only a,b]`
//
// The inbound path alone, in one process, no socket and no kernel: one masked frame of `--size`
// bytes is cut into reads of `--piece` bytes, each a fresh Buffer (as node makes one per socket
// read) handed to the receiver, with an event-loop turn (setImmediate) after each, as between two
// socket reads. What a read costs in JavaScript is the CPU time of that loop minus the same loop
// feeding nothing (`baseline`: the copies and the turns), per read. Columns:
//
//   ws            ws's Receiver (its `write`, what ws's socket 'data' listener calls), a
//                 'message' listener; WS_NO_BUFFER_UTIL=1 turns its native masking off, as the
//                 bench's plain ws column does (set by the caller: `WS_NO_BUFFER_UTIL=1 node …`)
//   ours-stream   a server Connection over a transport that drops what is written, with
//                 `conn.readable.pipeTo(conn.writable)`: the stream tier's echo, frame bytes
//                 forwarded as they come (the writes are counted, not sent)
//   ours-autobahn a WebSocketServerProtocol whose onMessage calls sendMessage, run on such a
//                 Connection: the Autobahn tier's echo
//
// BENCH_DIST=<dir> loads our library from a copy of dist/, as the servers do. Bounded: `--runs`
// × `--messages` messages per column.
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { loadOurs } from './servers/ours-lib.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const piece = Number(opt('--piece', 64));
const size = Number(opt('--size', 1 << 20));
const messages = Number(opt('--messages', 20));
const runs = Number(opt('--runs', 5));
const only = opt('--only', null)?.split(',');

const dist = process.env.BENCH_DIST;
const ours = await loadOurs('Connection', 'WebSocketServerProtocol'); // dist/, or BENCH_DIST
const require = createRequire(import.meta.url);
const Receiver = require(new URL('../node_modules/ws/lib/receiver.js', import.meta.url).pathname);

// One masked binary frame, and the reads it arrives in.
const payload = crypto.randomBytes(size);
const key = crypto.randomBytes(4);
const hs = 2 + (size < 126 ? 0 : size < 65536 ? 2 : 8) + 4;
const frame = Buffer.allocUnsafe(hs + size);
frame[0] = 0x82;
if (size < 126) frame[1] = 0x80 | size;
else if (size < 65536) { frame[1] = 0x80 | 126; frame.writeUInt16BE(size, 2); }
else { frame[1] = 0x80 | 127; frame.writeUInt32BE(0, 2); frame.writeUInt32BE(size, 6); }
key.copy(frame, hs - 4);
for (let i = 0; i < size; i++) frame[hs + i] = payload[i] ^ key[i & 3];
const reads = [];
for (let o = 0; o < frame.length; o += piece) reads.push(frame.subarray(o, Math.min(frame.length, o + piece)));

const turn = () => new Promise((r) => setImmediate(r));

/** Feeds `messages` frames read by read to `feed`; `done()` resolves when a message is through. */
async function drive(feed, waitMessage) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let m = 0; m < messages; m++) {
    const got = waitMessage();
    for (let i = 0; i < reads.length; i++) {
      const r = reads[i];
      const b = Buffer.allocUnsafe(r.length); // a fresh buffer per read, as node's
      r.copy(b);
      feed(b);
      await turn();
    }
    await got;
  }
  const cpu = process.cpuUsage(cpu0);
  return { cpuUs: cpu.user + cpu.system, wallMs: performance.now() - t0 };
}

/** A message counter with a promise for the next one. */
function counter() {
  let n = 0, want = 0, wake = null;
  return {
    hit(bytes) {
      if (bytes !== size) throw new Error(`message of ${bytes} bytes, expected ${size}`);
      n++;
      if (wake && n >= want) { const w = wake; wake = null; w(); }
    },
    next() { want = n + 1; return n >= want ? Promise.resolve() : new Promise((r) => { wake = r; }); },
  };
}

/** A ByteTransport that takes every write and drops it (counting writes and bytes). */
class NullTransport {
  sink = null; writes = 0; bytes = 0;
  attach(sink) { this.sink = sink; }
  pause() {}
  resume() {}
  write(chunks) { this.writes++; for (const c of chunks) this.bytes += c.length; return true; }
  get bufferedAmount() { return 0; }
  end() {}
  destroy() {}
}

const handshake = { path: '/', url: 'ws://127.0.0.1/', protocol: '', extensions: '', requestHeaders: {}, responseHeaders: {}, remoteAddress: undefined, remotePort: undefined };
// The Node adapter's fast paths, as `serve()` passes them to each connection (unzeroed buffers
// for messages collected whole, node's UTF-8 check); builds before `RuntimeHooks` had them
// process-wide and export no `nodeRuntime`.
const init = { role: 'server', handshake, ...(ours.nodeRuntime ? { runtime: ours.nodeRuntime } : {}) };

const columns = {
  baseline() {
    const c = counter();
    let got = 0;
    return { feed: (b) => { got += b.length; if (got === frame.length) { got = 0; c.hit(size); } }, next: c.next };
  },
  ws() {
    const c = counter();
    const rx = new Receiver({ isServer: true, maxPayload: 0, binaryType: 'nodebuffer' });
    rx.on('message', (data) => c.hit(data.length));
    rx.on('error', (err) => { throw err; });
    return { feed: (b) => rx.write(b), next: c.next };
  },
  'ours-stream'() {
    const t = new NullTransport();
    const conn = new ours.Connection(t, init);
    conn.readable.pipeTo(conn.writable).catch(() => {});
    // Count echoed payload bytes (frames go out as header + payload pieces).
    const c = counter();
    let echoed = 0;
    const w = t.write.bind(t);
    t.write = (chunks) => { for (const x of chunks) echoed += x.length; while (echoed >= frame.length - 4) { echoed -= frame.length - 4; c.hit(size); } return w(chunks); };
    return { feed: (b) => t.sink.onData(b), next: c.next, transport: t };
  },
  'ours-autobahn'() {
    const t = new NullTransport();
    const conn = new ours.Connection(t, init);
    const c = counter();
    class Echo extends ours.WebSocketServerProtocol {
      onMessage(p, isBinary) { c.hit(p.length); return this.sendMessage(p, isBinary); }
    }
    new Echo().run(conn);
    return { feed: (b) => t.sink.onData(b), next: c.next, transport: t };
  },
};

const names = Object.keys(columns).filter((n) => n === 'baseline' || !only || only.includes(n));
const results = Object.fromEntries(names.map((n) => [n, []]));
console.log(`inbound: ${size} B frame in ${reads.length} reads of ${piece} B, ${messages} messages × ${runs} runs per column; ws masking: ${process.env.WS_NO_BUFFER_UTIL ? 'JS (WS_NO_BUFFER_UTIL)' : 'bufferutil if installed'}; ours from ${dist ?? 'dist/'}`);
for (let r = 0; r < runs + 1; r++) { // run 0 warms up (JIT) and is not counted
  for (const n of names) {
    const col = columns[n]();
    const res = await drive(col.feed, col.next);
    if (r > 0) results[n].push({ ...res, writes: col.transport?.writes ?? 0 });
  }
}
const median = (xs) => { const v = [...xs].sort((a, b) => a - b); const m = v.length >> 1; return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2; };
const nReads = reads.length * messages;
const base = median(results.baseline.map((x) => x.cpuUs));
console.log(`\n| column | CPU µs per read (minus baseline) | CPU µs per message (minus baseline) | writes per message |`);
console.log('|---|---:|---:|---:|');
for (const n of names) {
  const cpu = median(results[n].map((x) => x.cpuUs));
  const net = n === 'baseline' ? cpu : cpu - base;
  console.log(`| ${n}${n === 'baseline' ? ' (not subtracted)' : ''} | ${(net / nReads).toFixed(3)} | ${(net / messages).toFixed(0)} | ${n.startsWith('ours') ? (median(results[n].map((x) => x.writes)) / messages).toFixed(1) : ''} |`);
}
