// Many connections: 10 000 held idle at once, and 10 000 (`--churn N`; bench/SOAK.md: 50 000) opened and ended
// abruptly in turn: a reset in the middle of a message, a reset in the middle of a compressed
// message (the inflater at work), a half-close (FIN after a message, then nothing), and a clean
// close. Descriptors: the runner holds the client side of every socket (soak/run.sh raises
// `ulimit -n` to the hard limit).
import {
  KiB, MiB, Verdict, closeFrame, deflateMessage, destroyAll, frame, frameHeader, freshClient, mib, plus, openMany, rawConnect,
  sampler, secs, settleAndMeasure, sleep, startTarget, waitFor,
} from '../lib.mjs';

const serverFile = { ours: 'ours.mjs', ws: 'ws.mjs' };

async function idle(server, o) {
  const v = new Verdict();
  const n = o.idle;
  const target = await startTarget(serverFile[server]);
  try {
    const base = await target.stats(true);
    const s = await sampler(target, 500);
    const opened = await openMany(target.port, n, { concurrency: 200, deadlineMs: 90_000 });
    const [all, st] = await waitFor(target, (x) => x.connections >= n, 5000);
    await sleep(1000);
    const during = await freshClient(target.port);
    const held = await target.stats(true);
    const peak = await s.stop();
    const perConn = (held.rss - base.rss) / n;
    v.check(opened.failed === 0 && all, `${opened.failed} handshakes failed; the server counted ${st?.connections} of ${n}`);
    v.check(during.ok, `a fresh client was not served with ${n} connections open`);
    v.check(perConn <= o.idlePerConnLimit, `RSS per idle connection ${(perConn / KiB).toFixed(1)} KiB > ${o.idlePerConnLimit / KiB} KiB`);
    destroyAll(opened.sockets);
    const end = await settleAndMeasure(target, base, v, { settleMs: 15_000 });
    v.check(end.heapRetained <= o.retainedHeapLimit, `heap retained after the connections left ${mib(end.heapRetained)} > ${mib(o.retainedHeapLimit)}`);
    return {
      verdict: v,
      cell: `${st.connections} open in ${secs(opened.ms)}; RSS ${(perConn / KiB).toFixed(1)} KiB, heap ${((held.heapUsed - base.heapUsed) / n / KiB).toFixed(1)} KiB per connection (after GC); fresh client ${during.ok ? 'served' : 'NOT served'} while they were open; ` +
        `all ${end.settled ? 'gone' : 'NOT gone'} after the clients left; heap after GC ${end.heapRetained >= 0 ? '+' : ''}${mib(end.heapRetained)}, RSS ${mib(end.retained)} over the start (peak ${mib(peak.peak - base.rss)})`,
    };
  } finally {
    await target.stop();
  }
}

async function churn(server, o) {
  const v = new Verdict();
  const n = o.churn;
  const target = await startTarget(serverFile[server], ['--deflate']);
  try {
    const base = await target.stats(true);
    const s = await sampler(target, 500);
    const payload = Buffer.alloc(4 * KiB, 0x61);
    const message = frame(0x2, payload);
    const partial = Buffer.concat([frameHeader(0x2, 64 * KiB)[0], Buffer.alloc(2 * KiB, 0x62)]);
    const compressed = deflateMessage(Buffer.from('{"k":"v"}'.repeat(20_000)));
    const halfDeflate = frame(0x2, compressed.subarray(0, compressed.length >> 1), { rsv1: true, fin: false });
    const counts = { resetMidMessage: 0, resetMidDeflate: 0, halfClose: 0, clean: 0, failed: 0 };
    let next = 0;
    const t0 = performance.now();
    const deadline = o.churnDeadlineMs;
    const one = async (i) => {
      const kind = i % 4;
      const { socket } = await rawConnect(target.port, { deflate: kind === 1 });
      socket.resume();
      if (kind === 0) {
        socket.write(partial);
        await sleep(1);
        socket.resetAndDestroy();
        counts.resetMidMessage++;
      } else if (kind === 1) {
        socket.write(halfDeflate);
        await sleep(2);
        socket.resetAndDestroy();
        counts.resetMidDeflate++;
      } else if (kind === 2) {
        socket.end(message); // half-close: our side says no more, and never reads a close
        await new Promise((r) => { socket.once('close', r); setTimeout(r, 7000); });
        socket.destroy();
        counts.halfClose++;
      } else {
        socket.write(Buffer.concat([message, closeFrame(1000)]));
        await new Promise((r) => { socket.once('close', r); setTimeout(r, 7000); });
        socket.destroy();
        counts.clean++;
      }
    };
    await Promise.all(Array.from({ length: o.churnConcurrency }, async () => {
      while (next < n && performance.now() - t0 < deadline) {
        const i = next++;
        try { await one(i); } catch { counts.failed++; }
      }
    }));
    const took = performance.now() - t0;
    const done = counts.resetMidMessage + counts.resetMidDeflate + counts.halfClose + counts.clean;
    const peak = await s.stop();
    v.check(done + counts.failed >= n, `only ${done} of ${n} connections churned within the ${secs(deadline)} deadline`);
    v.check(counts.failed <= n / 1000, `${counts.failed} connections failed to open`);
    const end = await settleAndMeasure(target, base, v, { settleMs: 10_000 });
    v.check(end.heapRetained <= o.retainedHeapLimit, `heap retained ${mib(end.heapRetained)} > ${mib(o.retainedHeapLimit)}`);
    v.check(end.retained <= o.churnRssLimit, `RSS retained ${mib(end.retained)} > ${mib(o.churnRssLimit)}`);
    return {
      verdict: v,
      cell: `${done} connections in ${secs(took)} (${Math.round(done / (took / 1000))}/s; ${counts.resetMidMessage} reset mid-message, ${counts.resetMidDeflate} mid-deflate, ${counts.halfClose} half-closed, ${counts.clean} clean, ${counts.failed} failed to open); ` +
        `${end.settled ? 'none left open' : 'some LEFT OPEN'}; after GC heap ${end.heapRetained >= 0 ? '+' : ''}${mib(end.heapRetained)}, RSS ${end.retained >= 0 ? '+' : ''}${mib(end.retained)} (peak ${plus(peak.peak - base.rss)}); fresh client ${end.fresh.ok ? 'served' : 'NOT served'} after`,
    };
  } finally {
    await target.stop();
  }
}

export default [
  {
    name: 'idle-10k',
    limit: (o) => `${o.idle} idle connections at once: all open, a fresh client served meanwhile, RSS ≤ ${o.idlePerConnLimit / KiB} KiB per connection, all gone once the clients leave, heap after GC ≤ ${plus(o.retainedHeapLimit)}`,
    servers: ['ours', 'ws'],
    deadlineMs: () => 150_000,
    run: idle,
  },
  {
    name: 'churn',
    limit: (o) => `${o.churn} connections (permessage-deflate offered), ${o.churnConcurrency} at a time, each reset mid-message, reset mid-deflate, half-closed or closed cleanly: all churned within ${secs(o.churnDeadlineMs)}, none left open, heap after GC ≤ ${plus(o.retainedHeapLimit)}, RSS after ≤ ${plus(o.churnRssLimit)}, a fresh client served after`,
    servers: ['ours', 'ws'],
    deadlineMs: (o) => o.churnDeadlineMs + 60_000,
    run: churn,
  },
];
export const defaults = {
  idle: 10_000, idlePerConnLimit: 32 * KiB, retainedHeapLimit: 8 * MiB,
  churn: 10_000, churnConcurrency: 100, churnDeadlineMs: 240_000, churnRssLimit: 96 * MiB,
};
