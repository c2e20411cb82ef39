// Our stream tier answering each message with the hex SHA-256 of its payload, computed by piping
// `msg.stream()` into a hash: constant memory whatever the message size.
import crypto from 'node:crypto';
import { lifecycle, listening } from './common.mjs';
import { loadOurs, portOf } from './ours-lib.mjs';

lifecycle();
const { serve } = await loadOurs('serve');
// One 4 GiB frame: both limits lifted (maxFrameSize is checked from the header, before any payload).
const server = await serve({ host: '127.0.0.1', port: 0, maxFrameSize: Infinity, maxMessageSize: Infinity }, async (conn) => {
  try {
    for await (const msg of conn.readable) {
      const hash = crypto.createHash('sha256');
      for await (const chunk of msg.stream()) hash.update(chunk);
      await conn.send(hash.digest('hex'));
    }
  } catch (err) {
    process.stderr.write(`ours-sha256: ${err?.message ?? err}\n`);
  }
});
listening(portOf(server));
