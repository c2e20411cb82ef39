// Clients that never read while the server writes large messages: the server sends 16 MiB
// binary messages without end to every client (ours: each `send()` awaited; ws: the next one
// from the send callback), and the clients never read a byte. What bounds the server is its
// transport's mark (sendHighWaterMark, 1 MiB) and the kernel's socket buffers.
import { MiB, Verdict, destroyAll, freshClient, mib, plus, openMany, sampler, secs, settleAndMeasure, sleep, startTarget } from '../lib.mjs';

const serverFile = { ours: 'ours.mjs', ws: 'ws.mjs' };

async function neverRead(server, o) {
  const v = new Verdict();
  const n = o.neverReadClients;
  const target = await startTarget(serverFile[server], ['--mode', 'blast']);
  try {
    const base = await target.stats(true);
    const s = await sampler(target);
    const opened = await openMany(target.port, n, { concurrency: 20 }); // sockets stay paused: nothing is read
    await sleep(o.neverReadMs);
    const during = await freshClient(target.port);
    const st = await target.stats(false);
    const peak = await s.stop();
    const growth = peak.peak - base.rss;
    v.check(opened.failed === 0, `${opened.failed} clients failed to connect`);
    v.check(during.ok, 'a fresh client was not served while the others did not read');
    v.check(growth <= o.neverReadRssLimit, `peak RSS growth ${mib(growth)} > ${mib(o.neverReadRssLimit)}`);
    destroyAll(opened.sockets);
    const end = await settleAndMeasure(target, base, v, {});
    return {
      verdict: v,
      cell: `${n} clients unread for ${secs(o.neverReadMs)}, ${st.connections} still open (nothing ends them without autoPingInterval); ${st.messages} messages of 16 MiB begun; peak RSS ${plus(growth)} (${mib(growth / n)} per client); fresh client ${during.ok ? 'served' : 'NOT served'} during, ${end.fresh.ok ? 'served' : 'NOT served'} after`,
    };
  } finally {
    await target.stop();
  }
}

export default [
  {
    name: 'never-read',
    limit: (o) => `${o.neverReadClients} clients never read while the server sends 16 MiB messages to each without end, for ${secs(o.neverReadMs)}: server peak RSS growth ≤ ${mib(o.neverReadRssLimit)} (16 MiB payload shared, a few MiB per client), a fresh client served during and after`,
    servers: ['ours', 'ws'],
    deadlineMs: (o) => o.neverReadMs + 40_000,
    run: neverRead,
  },
];
export const defaults = { neverReadClients: 20, neverReadMs: 8000, neverReadRssLimit: 128 * MiB };
