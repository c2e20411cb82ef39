// Framing abuse: one message of very many tiny fragments; a frame header promising a terabyte,
// then trickling; and many connections each promising a frame of exactly the default limit
// (64 MiB) and trickling it, against the echo (stream tier) and a server that reads every
// message whole (`bytes()`, as the Autobahn tier's onMessage does).
import {
  MiB, Verdict, frame, frameHeader, mib, plus, rawConnect, sampler, secs, settleAndMeasure, sleep, startTarget, waitFor,
  watchClose, within, writeAll,
} from '../lib.mjs';

const serverFile = { ours: 'ours.mjs', ws: 'ws.mjs' };

async function tinyFragments(server, o) {
  const v = new Verdict();
  const target = await startTarget(serverFile[server]);
  try {
    const base = await target.stats(true);
    const s = await sampler(target);
    const { socket, rest } = await rawConnect(target.port);
    const t0 = performance.now();
    const closed = watchClose(socket, t0, rest);
    const n = o.fragments;
    const one = Buffer.from('x');
    const batch = (first) => Buffer.concat(Array.from({ length: 10_000 }, (_, i) => frame(first && i === 0 ? 0x2 : 0x0, one, { fin: false })));
    let sent = 0;
    let verdict;
    const later = batch(false);
    closed.then((h) => { verdict = h; });
    while (sent < n && verdict === undefined && performance.now() - t0 < 20_000) {
      if (!(await writeAll(socket, sent === 0 ? batch(true) : later))) break;
      sent += 10_000;
    }
    if (verdict === undefined) await writeAll(socket, frame(0x0, one, { fin: true }));
    const how = await within(closed, 5000, { code: 'none', ms: performance.now() - t0 });
    const peak = await s.stop();
    const growth = peak.peak - base.rss;
    // ws 8.23 has a fragment limit of its own, answered with 1008 (WS_ERR_TOO_MANY_BUFFERED_PARTS).
    v.check(how.code === 1009 || (server === 'ws' && how.code === 1008), `no 1009 (got ${how.code} after ${sent} fragments)`);
    v.check(growth <= o.fragmentsRssLimit, `peak RSS growth ${mib(growth)} > ${mib(o.fragmentsRssLimit)}`);
    socket.destroy();
    const end = await settleAndMeasure(target, base, v, {});
    return {
      verdict: v,
      cell: `${sent} fragments written; ${how.code === 'none' ? 'no close frame' : `close ${how.code}`} after ${secs(how.ms)}; peak RSS ${plus(growth)}, peak heap ${plus(peak.peakHeap - base.heapUsed)}; fresh client ${end.fresh.ok ? 'served' : 'NOT served'} after`,
    };
  } finally {
    await target.stop();
  }
}

async function terabyte(server, o) {
  const v = new Verdict();
  const target = await startTarget(serverFile[server]);
  try {
    const base = await target.stats(true);
    const { socket, rest } = await rawConnect(target.port);
    const t0 = performance.now();
    const closed = watchClose(socket, t0, rest);
    socket.write(frameHeader(0x2, 2n ** 40n)[0]);
    let trickled = 0;
    let done = false;
    closed.then(() => { done = true; });
    while (!done && performance.now() - t0 < 3000) {
      socket.write('x');
      trickled++;
      await sleep(10);
    }
    const how = await within(closed, 2000, { code: 'none', ms: performance.now() - t0 });
    v.check(how.code === 1009 && how.ms <= 1000, `no 1009 within 1 s of the header (got ${how.code} after ${secs(how.ms)})`);
    socket.destroy();
    const end = await settleAndMeasure(target, base, v, {});
    return {
      verdict: v,
      cell: `${how.code === 'none' ? 'no close frame' : `close ${how.code}`} ${secs(how.ms)} after the header (${trickled} bytes trickled); fresh client ${end.fresh.ok ? 'served' : 'NOT served'} after`,
    };
  } finally {
    await target.stop();
  }
}

/** `n` connections each announce a 64 MiB frame (the default limit, accepted) and trickle 1 KiB every 100 ms. */
function promised(mode) {
  return async (server, o) => {
    const v = new Verdict();
    const target = await startTarget(serverFile[server], ['--mode', mode]);
    const n = o.promisedConnections;
    try {
      const base = await target.stats(true);
      const s = await sampler(target);
      const sockets = [];
      for (let i = 0; i < n; i++) sockets.push((await rawConnect(target.port)).socket);
      const t0 = performance.now();
      for (const sck of sockets) { sck.resume(); sck.write(frameHeader(0x2, 64 * MiB)[0]); }
      const piece = Buffer.alloc(1024, 0x78); // masked or not, the server cannot tell: payload bytes
      while (performance.now() - t0 < o.promisedMs) {
        for (const sck of sockets) sck.write(piece);
        await sleep(100);
      }
      const peak = await s.stop();
      const growth = peak.peak - base.rss;
      const st = peak.last;
      const ext = st.arrayBuffers - base.arrayBuffers;
      v.check(st.connections === n, `${n - st.connections} of ${n} connections were dropped (none should be: the frame is within the limits)`);
      v.check(growth <= o.promisedRssLimit, `peak RSS growth ${mib(growth)} > ${mib(o.promisedRssLimit)}`);
      for (const sck of sockets) sck.destroy();
      const end = await settleAndMeasure(target, base, v, {});
      return {
        verdict: v,
        cell: `${st.connections}/${n} open after ${secs(o.promisedMs)} (${Math.round(o.promisedMs / 100)} KiB received each); peak RSS ${plus(growth)}; ArrayBuffer memory (process.memoryUsage().arrayBuffers) ${plus(ext)}; fresh client ${end.fresh.ok ? 'served' : 'NOT served'} after`,
      };
    } finally {
      await target.stop();
    }
  };
}

export default [
  {
    name: 'tiny-fragments',
    limit: (o) => `one binary message of up to ${o.fragments} one-byte fragments: close 1009 (maxFragments 100 000), peak RSS growth ≤ ${mib(o.fragmentsRssLimit)}, a fresh client served after`,
    servers: ['ours', 'ws'], deadlineMs: () => 60_000, run: tinyFragments,
  },
  {
    name: 'terabyte-header',
    limit: () => 'a frame header announcing 2^40 bytes, then 1 byte every 10 ms: close 1009 within 1 s of the header, a fresh client served after',
    servers: ['ours', 'ws'], deadlineMs: () => 30_000, run: terabyte,
  },
  {
    name: 'promised-64m-echo',
    limit: (o) => `${o.promisedConnections} connections each announce a 64 MiB frame (accepted: the default limit) and trickle 1 KiB / 100 ms for ${secs(o.promisedMs)}, echo server: all stay open, peak RSS growth ≤ ${mib(o.promisedRssLimit)}`,
    servers: ['ours', 'ws'], deadlineMs: (o) => o.promisedMs + 40_000, run: promised('echo'),
  },
  {
    name: 'promised-64m-collect',
    limit: (o) => `the same against a server that reads each message whole (ours: bytes(); ws: always): all stay open, peak RSS growth ≤ ${mib(o.promisedRssLimit)}`,
    servers: ['ours', 'ws'], deadlineMs: (o) => o.promisedMs + 40_000, run: promised('collect'),
  },
];
export const defaults = { fragments: 200_000, fragmentsRssLimit: 96 * MiB, promisedConnections: 100, promisedMs: 8000, promisedRssLimit: 64 * MiB };
void waitFor;
