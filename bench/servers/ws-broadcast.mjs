// Broadcast server, ws: the loop ws users write (ws README, "Server broadcast"), with the
// message already a Buffer (as when it was received), sent as text.
import { WebSocket, WebSocketServer } from 'ws';
import { jsonLike } from '../loadgen.mjs';
import { lifecycle, listening } from './common.mjs';
import { onBroadcastRequest } from './broadcast-common.mjs';

lifecycle();
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => ws.on('error', () => {}));
onBroadcastRequest((size) => {
  const data = jsonLike(size);
  return () => {
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: false });
    }
    return 0;
  };
});
wss.on('listening', () => listening(wss.address().port));
