// A chat server: every text message a client sends is broadcast to every client, encoded once
// (`server.broadcast`). In the same process, CLIENTS clients each send MESSAGES lines and
// check they received every client's lines, each sender's in order. Exits 0 on success.
//
//   npm run build && npx tsc --ignoreConfig --strict --module nodenext --moduleResolution nodenext \
//     --types node --rootDir examples --outDir .tmp/examples examples/chat-broadcast.ts \
//     && node .tmp/examples/chat-broadcast.js
// (compiled inside the package, so `websocket-streams` resolves to this package's dist/).
import { connect, serve, type Connection } from 'websocket-streams/node';

const CLIENTS = 20;
const MESSAGES = 10;

async function main(): Promise<void> {
  let joined = 0;
  let allJoined!: () => void;
  const everyoneHere = new Promise<void>((resolve) => (allJoined = resolve));

  const server = await serve({ host: '127.0.0.1', port: 0 }, async (conn: Connection) => {
    if (++joined === CLIENTS) allJoined();
    for await (const msg of conn) {
      if (msg.type !== 'text') continue;
      // Connections that cannot keep up (over 1 MiB queued) are skipped, not buffered for.
      const { skipped } = server.broadcast(await msg.text());
      if (skipped > 0) console.warn(`chat: ${skipped} slow clients skipped`);
    }
  });

  try {
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => connect(server.url)));
    await everyoneHere;
    const received = await Promise.all(clients.map((conn, id) => chat(conn, id)));
    const expected = CLIENTS * MESSAGES;
    if (!received.every((n) => n === expected)) throw new Error(`chat: expected ${expected} messages per client, got ${received.join(', ')}`);
    console.log(`chat: ${CLIENTS} clients received ${expected} messages each`);
    await Promise.all(clients.map((conn) => conn.close(1000)));
  } finally {
    await server.close();
  }
}

/** Sends this client's lines, then reads until every client's lines are in; returns how many came. */
async function chat(conn: Connection, id: number): Promise<number> {
  for (let k = 0; k < MESSAGES; k++) await conn.send(`${id}:${k}`);
  const nextFrom = new Array<number>(CLIENTS).fill(0);
  let count = 0;
  while (count < CLIENTS * MESSAGES) {
    const msg = await conn.nextMessage();
    if (msg === undefined) throw new Error(`chat: client ${id} was disconnected after ${count} messages`);
    const line = await msg.text();
    const [sender = -1, k = -1] = line.split(':').map(Number);
    const expected = nextFrom[sender];
    if (expected === undefined || k !== expected) throw new Error(`chat: client ${id} got '${line}', expected the next line from each sender in order`);
    nextFrom[sender] = expected + 1;
    count++;
  }
  return count;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
