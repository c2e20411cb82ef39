// Broadcast server, ours: `server.broadcast(text)` to every open connection, one frame encoded
// once. The runner asks for `rounds` broadcasts over IPC; one event-loop turn between two
// rounds, as broadcasts triggered by separate events would be.
import { jsonLike } from '../loadgen.mjs';
import { lifecycle, listening, unavailable } from './common.mjs';
import { loadOurs, portOf } from './ours-lib.mjs';
import { onBroadcastRequest } from './broadcast-common.mjs';

lifecycle();
const { serve } = await loadOurs('serve', 'broadcast');
const server = await serve({ host: '127.0.0.1', port: 0 }, () => undefined);
if (typeof server.broadcast !== 'function') unavailable('not built: serve() returns no broadcast()');
onBroadcastRequest((size) => {
  const text = jsonLike(size).toString('latin1');
  return () => server.broadcast(text).skipped;
});
listening(portOf(server));
