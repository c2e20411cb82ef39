// Plain TCP echo: the ceiling. The loadgen writes the same masked WebSocket frames to it and
// parses them as they come back (see loadgen.mjs, tcp mode). A 'data' handler that writes each
// chunk back (pausing on backpressure) rather than `socket.pipe(socket)`: same behaviour, less
// stream machinery per chunk, so it is the cheaper echo a Node server can be.
import net from 'node:net';
import { lifecycle, listening } from './common.mjs';

lifecycle();
const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    if (!socket.write(chunk)) socket.pause();
  });
  socket.on('drain', () => socket.resume());
});
server.listen(0, '127.0.0.1', () => listening(server.address().port));
