// A client that outlives its server's bad moments: `reconnect()` yields a connection, and when
// it is lost (or cannot be opened) waits, longer each time, and yields the next one.
//
//   node examples/out/reconnecting-client.js
//
// The server here drops the first two TCP connections before they can handshake, as a server
// still starting up or behind a flapping load balancer would, then serves: it sends one message
// and closes with 1000. The client prints each retry, `reconnect: connected on attempt 3`, the
// message, and leaves the loop on that clean close (a lost connection, 1001, 1006, 1011–1014, a
// network error, a timeout or a 5xx would have been retried; a 4xx refusal would throw).
import { reconnect, serve, type RetryInfo } from 'websocket-streams/node';

/** Connections the server drops before it starts serving. */
const DROPPED = 2;

async function main(): Promise<boolean> {
  const server = await serve({ host: '127.0.0.1', port: 0 }, async (conn) => {
    await conn.send('welcome, third time lucky');
    await conn.close(1000, 'done');
  });
  let accepted = 0;
  // Before any byte of the handshake: the client sees the socket hang up (ECONNRESET).
  server.server.on('connection', (socket) => {
    if (++accepted <= DROPPED) socket.destroy();
  });
  const retries: RetryInfo[] = [];
  const received: string[] = [];
  let connectedOn = 0;
  try {
    // Short delays for an example: 50 ms, then 100 ms (each between half and all of that, by
    // jitter). The defaults start at 1 s and grow to 30 s. maxAttempts bounds the loop.
    const connections = reconnect(server.url, {
      initialDelay: 50,
      maxDelay: 400,
      maxAttempts: 5,
      onRetry: (retry) => {
        retries.push(retry);
        const why = retry.error ? `${retry.error.kind}: ${retry.error.message}` : `closed with ${retry.close?.code}`;
        console.log(`reconnect: attempt ${retry.attempt} failed (${why}); next in ${Math.round(retry.delay)} ms`);
      },
    });
    for await (const conn of connections) {
      connectedOn = connections.attempts;
      console.log(`reconnect: connected on attempt ${connectedOn}`);
      for await (const msg of conn) received.push(await msg.text());
      console.log(`reconnect: received ${JSON.stringify(received.at(-1))}, closed with ${(await conn.closed).code}`);
    }
  } finally {
    await server.close();
  }
  const ok = connectedOn === DROPPED + 1 && retries.length === DROPPED && received.length === 1;
  // The result line (see examples/README.md).
  console.log(`RESULT ${JSON.stringify({ ok, connectedOn, retries: retries.map((r) => r.error?.kind ?? r.close?.code), received })}`);
  return ok;
}

main().then(
  (ok) => {
    if (!ok) process.exitCode = 1;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
