// Control-frame floods: pings at a peer that never reads (ours as server, and as client against
// a flooding server), unsolicited pongs, and close frames (many connections that close and then
// never read nor end TCP, each sending more close frames and data after its close).
import net from 'node:net';
import crypto from 'node:crypto';
import {
  MiB, Verdict, closeFrame, frame, mib, plus, rawConnect, sampler, secs, settleAndMeasure, sleep, startTarget,
  waitFor, watchClose, within, writeAll,
} from '../lib.mjs';

const serverFile = { ours: 'ours.mjs', ws: 'ws.mjs' };
const BATCH = 1000;
/** Control frames carry the most payload they may (125 bytes): a pong owed is as large as it gets. */
const PAYLOAD = Buffer.alloc(125, 0x70);

/** Writes `max` frames from `makeBatch()` (BATCH at a time) until the peer is gone, `max` or `ms`. */
async function flood(socket, makeBatch, max, ms) {
  const t0 = performance.now();
  let sent = 0;
  while (sent < max && performance.now() - t0 < ms) {
    if (!(await within(writeAll(socket, makeBatch()), Math.max(1, ms - (performance.now() - t0)), false))) break;
    sent += BATCH;
  }
  return { sent, ms: performance.now() - t0 };
}

const endedText = (ended) => Object.entries(ended).map(([k, n]) => `${k}×${n}`).join(', ') || 'none';

async function pingFloodServer(server, o) {
  const v = new Verdict();
  const target = await startTarget(serverFile[server]);
  try {
    const base = await target.stats(true);
    const s = await sampler(target);
    const { socket } = await rawConnect(target.port); // stays paused: never reads a pong
    const batch = Buffer.concat(Array.from({ length: BATCH }, () => frame(0x9, PAYLOAD)));
    const f = await flood(socket, () => batch, o.floodCount, o.floodMs);
    const [ended, st] = await waitFor(target, (x) => x.connections === 0, 2000);
    const peak = await s.stop();
    const growth = peak.peak - base.rss;
    const verdictMs = st?.lifetimesMs.at(-1);
    v.check(growth <= o.floodRssLimit, `peak RSS growth ${mib(growth)} > ${mib(o.floodRssLimit)}`);
    socket.destroy();
    const end = await settleAndMeasure(target, base, v, {});
    v.check(end.heapRetained <= o.heapRetainedLimit, `heap retained after GC ${mib(end.heapRetained)} > ${mib(o.heapRetainedLimit)}`);
    return {
      verdict: v,
      cell: `${ended ? `ended after ${secs(verdictMs)}: ${endedText(st.ended)}` : `still open after ${secs(f.ms)}`}; ${f.sent} pings written; peak RSS ${plus(growth)}, after GC ${plus(end.retained)} (heap ${mib(end.heapRetained)}); fresh client ${end.fresh.ok ? 'served' : 'NOT served'} after`,
    };
  } finally {
    await target.stop();
  }
}

/** A server that answers the handshake, then floods unmasked pings and never reads. */
function floodingServer(o) {
  const stats = { sent: 0, ms: 0 };
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    let head = '';
    const onData = (d) => {
      head += d.toString('latin1');
      const key = /sec-websocket-key:\s*(\S+)/i.exec(head)?.[1];
      if (!head.includes('\r\n\r\n') || !key) return;
      socket.off('data', onData);
      socket.pause(); // never reads again
      const accept = crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      const batch = Buffer.concat(Array.from({ length: BATCH }, () => frame(0x9, PAYLOAD, { mask: false })));
      server.flood = flood(socket, () => batch, o.floodCount, o.floodMs).then((f) => Object.assign(stats, f));
    };
    socket.on('data', onData);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, stats, port: server.address().port })));
}

async function pingFloodClient(client, o) {
  const v = new Verdict();
  const fake = await floodingServer(o);
  const target = await startTarget(client === 'ours' ? 'ours-client.mjs' : 'ws-client.mjs', ['--url', `ws://127.0.0.1:${fake.port}/`]);
  try {
    const base = await target.stats(true);
    const s = await sampler(target);
    while (!fake.server.flood) await sleep(10);
    await fake.server.flood;
    const [ended, st] = await waitFor(target, (x) => x.connections === 0, 2000);
    const peak = await s.stop();
    const growth = peak.peak - base.rss;
    v.check(growth <= o.floodRssLimit, `the client's peak RSS growth ${mib(growth)} > ${mib(o.floodRssLimit)}`);
    const after = await target.stats(true);
    const heap = after.heapUsed - base.heapUsed;
    v.check(heap <= o.heapRetainedLimit, `the client's heap after GC ${plus(heap)} > ${mib(o.heapRetainedLimit)}`);
    return {
      verdict: v,
      cell: `${ended ? `the client ended it after ${secs(st.lifetimesMs.at(-1))}: ${endedText(st.ended)}` : `the client was still open after ${secs(fake.stats.ms)}`}; ${fake.stats.sent} pings written; client peak RSS ${plus(growth)}, heap after GC ${plus(heap)}`,
    };
  } finally {
    await target.stop();
    fake.server.close();
  }
}

async function pongFlood(server, o) {
  const v = new Verdict();
  const target = await startTarget(serverFile[server]);
  try {
    const base = await target.stats(true);
    const s = await sampler(target);
    const { socket } = await rawConnect(target.port);
    const closed = watchClose(socket); // reads everything the server sends
    const batch = Buffer.concat(Array.from({ length: BATCH }, () => frame(0xa, PAYLOAD)));
    const f = await flood(socket, () => batch, o.floodCount, o.floodMs);
    // Still a working connection? A text message after the flood must come back.
    let echoed = false;
    socket.removeAllListeners('data');
    const got = new Promise((resolve) => socket.on('data', (d) => { if (d.includes('after-flood')) resolve(true); }));
    socket.write(frame(0x1, 'after-flood'));
    echoed = await within(got, 5000, false);
    void closed;
    const peak = await s.stop();
    const growth = peak.peak - base.rss;
    v.check(echoed, 'the connection did not echo a message after the pong flood');
    v.check(growth <= o.floodRssLimit, `peak RSS growth ${mib(growth)} > ${mib(o.floodRssLimit)}`);
    socket.write(closeFrame(1000));
    socket.destroy();
    const end = await settleAndMeasure(target, base, v, {});
    v.check(end.heapRetained <= o.heapRetainedLimit, `heap retained after GC ${mib(end.heapRetained)} > ${mib(o.heapRetainedLimit)}`);
    return {
      verdict: v,
      cell: `${f.sent} pongs in ${secs(f.ms)}; connection ${echoed ? 'still echoes' : 'does NOT echo'} afterwards; peak RSS ${plus(growth)}, heap after GC ${plus(end.heapRetained)}; fresh client ${end.fresh.ok ? 'served' : 'NOT served'} after`,
    };
  } finally {
    await target.stop();
  }
}

async function closeFlood(server, o) {
  const v = new Verdict();
  const target = await startTarget(serverFile[server]);
  const n = o.closeFloodCount;
  try {
    const base = await target.stats(true);
    const s = await sampler(target);
    const t0 = performance.now();
    const sockets = [];
    // Each connection: a close frame, 10 more close frames, a data frame; then it never reads
    // (paused) and never ends TCP. 100 at a time.
    const tail = Buffer.concat([closeFrame(1000), ...Array.from({ length: 10 }, () => closeFrame(1001)), frame(0x2, 'after close')]);
    let next = 0;
    let failed = 0;
    await Promise.all(Array.from({ length: 100 }, async () => {
      while (next < n && performance.now() - t0 < 30_000) {
        next++;
        try {
          const { socket } = await rawConnect(target.port);
          socket.write(tail);
          sockets.push(socket);
        } catch {
          failed++;
        }
      }
    }));
    const opened = performance.now() - t0;
    const limit = o.closeTimeout + 2000;
    const [ended, st] = await waitFor(target, (x) => x.connections === 0 && x.opened >= sockets.length, limit + 1000, 200);
    const peak = await s.stop();
    const growth = peak.peak - base.rss;
    const maxLife = Math.max(...(st?.lifetimesMs ?? [NaN]));
    v.check(failed === 0, `${failed} handshakes failed`);
    v.check(ended, `${st?.connections} of ${n} connections still open ${secs(limit + 1000)} after the last close frame`);
    v.check(!(maxLife > limit), `a connection lived ${secs(maxLife)} > closeTimeout + 2 s after its close frame`);
    for (const sck of sockets) sck.destroy();
    const end = await settleAndMeasure(target, base, v, {});
    return {
      verdict: v,
      cell: `${sockets.length} connections opened in ${secs(opened)}; ${ended ? `all ended by the server, each within ${secs(maxLife)} of its close` : `${st?.connections} still open ${secs(limit + 1000)} after the last close frame${end.settled ? '' : `, ${end.stats?.connections} still open 8 s after the clients left`}`} (${endedText(end.stats?.ended ?? st?.ended ?? {})}); peak RSS ${plus(growth)}; fresh client ${end.fresh.ok ? 'served' : 'NOT served'} after`,
    };
  } finally {
    await target.stop();
  }
}

export default [
  {
    name: 'ping-flood-server',
    limit: (o) => `a client pings without end (up to ${o.floodCount / 1e6}M pings or ${secs(o.floodMs)}) and never reads: server peak RSS growth ≤ ${mib(o.floodRssLimit)}, heap after GC ≤ ${plus(o.heapRetainedLimit)}, a fresh client served after. Reported: whether and when the server ends it`,
    servers: ['ours', 'ws'],
    deadlineMs: (o) => o.floodMs + 30_000,
    run: pingFloodServer,
  },
  {
    name: 'ping-flood-client',
    limit: (o) => `a server pings without end (up to ${o.floodCount / 1e6}M pings or ${secs(o.floodMs)}) and never reads: the client's peak RSS growth ≤ ${mib(o.floodRssLimit)}, its heap after GC ≤ ${plus(o.heapRetainedLimit)}. Reported: whether and when the client ends it`,
    servers: ['ours', 'ws'],
    deadlineMs: (o) => o.floodMs + 30_000,
    run: pingFloodClient,
  },
  {
    name: 'pong-flood',
    limit: (o) => `unsolicited pongs (up to ${o.floodCount / 1e6}M or ${secs(o.floodMs)}): peak RSS growth ≤ ${mib(o.floodRssLimit)}, heap after GC ≤ ${plus(o.heapRetainedLimit)}, the connection still echoes afterwards, a fresh client served`,
    servers: ['ours', 'ws'],
    deadlineMs: (o) => o.floodMs + 30_000,
    run: pongFlood,
  },
  {
    name: 'close-flood',
    limit: (o) => `${o.closeFloodCount} connections each send 11 close frames and a data frame, then never read nor end TCP: each ended by the server within closeTimeout (${secs(o.closeTimeout)}) + 2 s, a fresh client served after`,
    servers: ['ours', 'ws'],
    deadlineMs: () => 75_000,
    run: closeFlood,
  },
];
export const defaults = { floodCount: 20_000_000, floodMs: 10_000, floodRssLimit: 96 * MiB, heapRetainedLimit: 4 * MiB, closeFloodCount: 2000, closeTimeout: 5000 };
