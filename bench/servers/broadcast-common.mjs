// What both broadcast servers share: the runner's `{ type: 'broadcast', rounds, size }` request
// over IPC, answered with `{ type: 'broadcast-done', skipped }` once every round was sent.

/**
 * `prepare(size)` returns the function that broadcasts one message to every connection and
 * returns how many it skipped. Rounds are one event-loop turn apart.
 */
export function onBroadcastRequest(prepare) {
  process.on('message', async (m) => {
    if (m?.type !== 'broadcast') return;
    const once = prepare(m.size);
    let skipped = 0;
    for (let r = 0; r < m.rounds; r++) {
      skipped += once();
      await new Promise((resolve) => setImmediate(resolve));
    }
    process.send({ type: 'broadcast-done', skipped });
  });
}
