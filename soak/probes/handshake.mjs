// Slowloris and handshakes that never finish.
//
// Our server's own deadline is `handshakeTimeout` (10 s by default), counted from node's
// 'upgrade' event, i.e. from a COMPLETE request head to our 101 (hooks included). A peer that
// never completes its request head never reaches it: that socket is node's http.Server's, bounded
// only by node's `headersTimeout` (60 s in Node 20, checked every `connectionsCheckingInterval`,
// 30 s: dropped 60–90 s after the first byte, or after the connection for a silent one). `serve()`
// sets neither. The probe asserts what holds today without waiting for node's default: memory
// stays bounded and fresh clients are served while hundreds of connections trickle, and
// handshakes stuck in a hook are dropped at `handshakeTimeout`. It reports how many trickling
// sockets the server dropped within its window (`--slowloris-ms`, default 15 000: none; run
// it with 100 000 to see node's own deadline).
import net from 'node:net';
import { MiB, Verdict, freshClient, mib, plus, secs, settleAndMeasure, sleep, startTarget, sampler } from '../lib.mjs';

const serverFile = { ours: 'ours.mjs', ws: 'ws.mjs' };

/** One slowloris socket: `kind` silent (nothing), stalled (half a head, then nothing), trickle (a byte every `gapMs`). */
function loris(port, kind, gapMs, t0) {
  const socket = net.connect({ port, host: '127.0.0.1' });
  const rec = { kind, closedAt: undefined, socket, timer: undefined };
  socket.on('error', () => {});
  socket.on('close', () => { rec.closedAt = performance.now() - t0; clearInterval(rec.timer); });
  socket.on('data', () => {});
  const head = `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Slow: `;
  socket.once('connect', () => {
    if (kind === 'stalled') socket.write(head);
    if (kind === 'trickle') {
      let i = 0;
      rec.timer = setInterval(() => {
        // The request head, then an endless header value.
        socket.write(i < head.length ? head[i] : 'a');
        i++;
      }, gapMs);
    }
  });
  return rec;
}

async function slowloris(server, opts) {
  const v = new Verdict();
  const n = opts.slowlorisCount;
  const windowMs = opts.slowlorisMs;
  const target = await startTarget(serverFile[server]);
  try {
    const base = await target.stats(true);
    const s = await sampler(target);
    const t0 = performance.now();
    const kinds = ['silent', 'stalled', 'trickle'];
    const socks = Array.from({ length: n }, (_, i) => loris(target.port, kinds[i % 3], 500, t0));
    await sleep(Math.min(3000, windowMs / 2));
    const during = await freshClient(target.port);
    v.check(during.ok, `a fresh client was not served during the slowloris (${during.error ?? 'no answer'})`);
    while (performance.now() - t0 < windowMs) await sleep(250);
    const peak = await s.stop();
    const growth = peak.peak - base.rss;
    v.check(growth <= opts.slowlorisRssLimit, `peak RSS growth ${mib(growth)} > ${mib(opts.slowlorisRssLimit)}`);
    const dropped = socks.filter((r) => r.closedAt !== undefined);
    const byKind = kinds.map((k) => {
      const d = dropped.filter((r) => r.kind === k);
      const first = d.length ? Math.min(...d.map((r) => r.closedAt)) : undefined;
      return `${k} ${d.length}/${n / 3}${first !== undefined ? ` (first at ${secs(first)})` : ''}`;
    });
    for (const r of socks) { clearInterval(r.timer); r.socket.destroy(); }
    const end = await settleAndMeasure(target, base, v, {});
    return {
      verdict: v,
      cell: `${n} sockets held ${secs(windowMs)} (server saw ${peak.maxSockets}); dropped by the server: ${byKind.join(', ')}; ` +
        `RSS ${plus(growth)}; fresh client ${during.ok ? 'served' : 'NOT served'} during, ${end.fresh.ok ? 'served' : 'NOT served'} after`,
    };
  } finally {
    await target.stop();
  }
}

async function hang(server, opts) {
  const v = new Verdict();
  const n = 100;
  const target = await startTarget(serverFile[server]);
  try {
    const base = await target.stats(true);
    const t0 = performance.now();
    const closed = [];
    const socks = [];
    await Promise.all(Array.from({ length: n }, () => new Promise((resolve) => {
      const socket = net.connect({ port: target.port, host: '127.0.0.1' }, resolve);
      socket.on('error', () => {});
      socket.on('data', () => {});
      socket.on('close', () => closed.push(performance.now() - t0));
      socket.write(`GET /hang HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      socks.push(socket);
    })));
    const limit = opts.handshakeTimeout + 2000;
    const waitMs = Math.max(limit + 1000, 13_000);
    while (closed.length < n && performance.now() - t0 < waitMs) await sleep(100);
    const st = await target.stats(false);
    const serverTimes = st?.socketLifetimesMs.hang ?? [];
    const maxServer = serverTimes.length ? Math.max(...serverTimes) : NaN;
    const dropped = closed.length;
    const allDropped = dropped === n;
    v.check(allDropped, `${n - closed.length}/${n} stuck handshakes not dropped within ${secs(waitMs)}`);
    v.check(!(maxServer > limit), `the server dropped a stuck handshake after ${secs(maxServer)} > ${secs(limit)}`);
    for (const sck of socks) sck.destroy();
    const end = await settleAndMeasure(target, base, v, {});
    return {
      verdict: v,
      cell: allDropped
        ? `${n}/${n} dropped by the server at ${secs(Math.min(...closed.slice(0, n)))}–${secs(Math.max(...closed.slice(0, n)))} (its own count: max ${secs(maxServer)}); fresh client ${end.fresh.ok ? 'served' : 'NOT served'} after`
        : `${dropped}/${n} dropped within ${secs(waitMs)}; ${end.settled ? 'none' : `${end.stats?.sockets} sockets`} still held by the server 8 s after the clients left; fresh client ${end.fresh.ok ? 'served' : 'NOT served'} after`,
    };
  } finally {
    await target.stop();
  }
}

export default [
  {
    name: 'slowloris',
    limit: (o) => `${o.slowlorisCount} sockets (silent / half a request head / a head byte every 500 ms) for ${secs(o.slowlorisMs)}: server peak RSS growth ≤ ${mib(o.slowlorisRssLimit)}, a fresh client served during and after. Reported, not asserted: which the server drops (node's headersTimeout)`,
    servers: ['ours', 'ws'],
    deadlineMs: (o) => o.slowlorisMs + 40_000,
    run: slowloris,
  },
  {
    name: 'handshake-hang',
    limit: (o) => `100 complete upgrade requests whose accept hook never answers (ours: onRequest; ws: verifyClient): each dropped by the server within handshakeTimeout (${secs(o.handshakeTimeout)}) + 2 s`,
    servers: ['ours', 'ws'],
    deadlineMs: () => 45_000,
    run: hang,
  },
];
export const defaults = { slowlorisCount: 300, slowlorisMs: 15_000, slowlorisRssLimit: 32 * MiB, handshakeTimeout: 10_000 };
