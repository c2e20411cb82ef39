// `ws` echo server, plain as installed from npm: every message is sent back as it came.
// permessage-deflate is off unless `--deflate` (or BENCH_DEFLATE=1); then ws's defaults apply.
import { createRequire } from 'node:module';
import { WebSocketServer } from 'ws';
import { deflate, lifecycle, listening } from './common.mjs';

lifecycle();
const require = createRequire(import.meta.url);
let bufferutil = 'no';
try {
  require.resolve('bufferutil', { paths: [require.resolve('ws')] });
  bufferutil = process.env.WS_NO_BUFFER_UTIL ? 'disabled' : 'yes';
} catch {}
process.stdout.write(`info bufferutil=${bufferutil}\n`);

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: deflate });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
wss.on('listening', () => listening(wss.address().port));
