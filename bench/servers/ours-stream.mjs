// Our stream tier: `conn.readable.pipeTo(conn.writable)` echoes every message, frame by frame,
// without buffering a whole message.
import { deflate, lifecycle, listening } from './common.mjs';
import { loadOurs, portOf } from './ours-lib.mjs';

lifecycle();
const { serve } = await loadOurs('serve');
const options = { host: '127.0.0.1', port: 0, ...(deflate ? { perMessageDeflate: true } : {}) };
const server = await serve(options, (conn) => {
  conn.readable.pipeTo(conn.writable).catch(() => {});
});
listening(portOf(server));
