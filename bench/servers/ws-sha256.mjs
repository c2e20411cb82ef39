// `ws` answering each message with the hex SHA-256 of its payload. ws delivers a message only
// once it holds all of it, so maxPayload must be lifted (0 = no limit: ws reads it with `| 0`, so 2 GiB - 1 is the largest real limit it can take)
// and the whole message sits in memory; the runner reports the peak RSS this needed.
import crypto from 'node:crypto';
import { WebSocketServer } from 'ws';
import { lifecycle, listening } from './common.mjs';

lifecycle();
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 0 });
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    // node:crypto refuses a single update of 2^31 bytes or more ("data is too long"): slices.
    const hash = crypto.createHash('sha256');
    for (let at = 0; at < data.length; at += 1 << 30) hash.update(data.subarray(at, at + (1 << 30)));
    ws.send(hash.digest('hex'));
  });
  ws.on('error', (err) => process.stderr.write(`ws-sha256: ${err.message}\n`));
});
wss.on('listening', () => listening(wss.address().port));
