// Our server under test: `serve()` with its defaults (the limits the soak asserts are the
// defaults), permessage-deflate with `--deflate`. Modes (`--mode`):
//   echo     conn.readable.pipeTo(conn.writable): the stream tier, nothing held whole
//   collect  every message read whole with bytes() (what the Autobahn tier's onMessage does), a short answer
//   blast    sends 16 MiB binary messages to every client, each send awaited (backpressure), until closed
// An upgrade to /hang has a hook (`onRequest`) that never answers: only `handshakeTimeout` ends it.
import { loadOurs } from '../../bench/servers/ours-lib.mjs';
import { blastPayload, counters, deflate, lifecycle, lifetime, mode, ready, tally, trackSockets, value } from './harness.mjs';

lifecycle();
const { serve } = await loadOurs('serve');
const extra = JSON.parse(value('--options', '{}'));
const big = mode === 'blast' ? blastPayload(16 * 1024 * 1024) : undefined;

const server = await serve({
  host: '127.0.0.1', port: 0,
  ...(deflate ? { perMessageDeflate: true } : {}),
  onRequest: (req) => (req.path.startsWith('/hang') ? new Promise(() => {}) : true),
  onError: () => { counters.errors++; },
  ...extra,
}, (conn) => {
  const t0 = performance.now();
  counters.connections++;
  counters.opened++;
  void conn.closed.then((info) => {
    counters.connections--;
    tally(`${info.endedBy}/${info.code}`);
    lifetime(counters.lifetimesMs, performance.now() - t0);
  });
  if (mode === 'echo') {
    conn.readable.pipeTo(conn.writable).catch(() => {});
  } else if (mode === 'collect') {
    void (async () => {
      for await (const msg of conn) {
        const bytes = await msg.bytes();
        counters.messages++;
        await conn.send(`got ${bytes.length}`);
      }
    })().catch(() => {});
  } else if (mode === 'blast') {
    void (async () => {
      conn.readable.pipeTo(new WritableStream()).catch(() => {}); // read what comes (a fresh client's close)
      for (;;) {
        counters.messages++; // begun (as ws.mjs counts)
        await conn.send(big);
      }
    })().catch(() => {});
  }
});
trackSockets(server.server);
ready(`listening ${server.port}`);
