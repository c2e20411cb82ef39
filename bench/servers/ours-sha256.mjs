// Our stream tier answering each message with the hex SHA-256 of its payload, computed by reading
// `msg.stream()` into a hash on a worker thread (hash-worker.mjs): constant memory whatever the
// message size, and the socket, the parser and the hash each get a core's share.
import { HashWorker } from './hash-worker.mjs';
import { lifecycle, listening } from './common.mjs';
import { loadOurs, portOf } from './ours-lib.mjs';

lifecycle();
const { serve } = await loadOurs('serve');
// One 4 GiB frame: both limits lifted (maxFrameSize is checked from the header, before any payload).
const server = await serve({ host: '127.0.0.1', port: 0, maxFrameSize: Infinity, maxMessageSize: Infinity }, async (conn) => {
  const hasher = new HashWorker();
  try {
    for await (const msg of conn.readable) {
      const hash = hasher.sha256();
      for await (const chunk of msg.stream()) {
        const wait = hash.update(chunk);
        if (wait) await wait;
      }
      await conn.send(await hash.digest());
    }
  } catch (err) {
    process.stderr.write(`ours-sha256: ${err?.message ?? err}\n`);
  } finally {
    await hasher.close();
  }
});
listening(portOf(server));
