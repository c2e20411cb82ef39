// The ws 8 server under test, with settings equivalent to ours: maxPayload 64 MiB (our
// maxFrameSize/maxMessageSize default), permessage-deflate with `--deflate` (ws's defaults),
// the same modes as ours.mjs (echo, collect: ws always collects; blast: the next 16 MiB message
// from the send callback, ws's backpressure). An upgrade to /hang has a `verifyClient` that
// never calls back (ws has no handshake timeout of its own).
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { blastPayload, counters, deflate, lifecycle, lifetime, mode, ready, tally, trackSockets } from './harness.mjs';

lifecycle();
const big = mode === 'blast' ? blastPayload(16 * 1024 * 1024) : undefined;
const server = http.createServer((req, res) => { res.writeHead(426); res.end(); });
trackSockets(server);
const wss = new WebSocketServer({
  server,
  maxPayload: 64 * 1024 * 1024,
  perMessageDeflate: deflate,
  verifyClient: (info, cb) => { if (!info.req.url.startsWith('/hang')) cb(true); },
});
wss.on('connection', (ws) => {
  const t0 = performance.now();
  counters.connections++;
  counters.opened++;
  let firstError;
  ws.on('error', (err) => { firstError ??= err.code ?? 'error'; });
  ws._socket?.on('error', (err) => { firstError ??= `socket ${err.code ?? err.message}`; });
  ws.on('close', (code) => {
    counters.connections--;
    tally(firstError ? `error ${firstError}/${code}` : `close/${code}`);
    lifetime(counters.lifetimesMs, performance.now() - t0);
  });
  if (mode === 'echo') {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  } else if (mode === 'collect') {
    ws.on('message', (data) => { counters.messages++; ws.send(`got ${data.length}`); });
  } else if (mode === 'blast') {
    const next = (err) => {
      if (err || ws.readyState !== 1) return;
      counters.messages++;
      ws.send(big, next);
    };
    next();
  }
});
server.listen(0, '127.0.0.1', () => ready(`listening ${server.address().port}`));
