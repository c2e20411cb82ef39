// `ws` echo server, as installed from npm: every message is sent back as it came.
// permessage-deflate is off unless `--deflate` (or BENCH_DEFLATE=1); then ws's defaults apply.
import { createRequire } from 'node:module';
import { WebSocketServer } from 'ws';
import { deflate, lifecycle, listening } from './common.mjs';

lifecycle();
const require = createRequire(import.meta.url);
// ws requires `bufferutil` itself when it is installed, unless WS_NO_BUFFER_UTIL is set (the
// runner's plain "ws" column). Report what this process really runs: the native addon, or
// bufferutil's own pure-JS fallback (no prebuild for this platform), or nothing.
let bufferutil = 'no';
try {
  const bu = require(require.resolve('bufferutil', { paths: [require.resolve('ws')] }));
  if (process.env.WS_NO_BUFFER_UTIL) bufferutil = 'disabled';
  else bufferutil = /\[native code\]/.test(String(bu.mask)) ? 'yes' : 'fallback';
} catch {}
process.stdout.write(`info bufferutil=${bufferutil}\n`);

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: deflate });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
wss.on('listening', () => listening(wss.address().port));
