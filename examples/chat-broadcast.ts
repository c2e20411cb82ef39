// A chat server: every text message a client sends is broadcast to every client, encoded once
// (`server.broadcast`). In the same process, CHAT_CLIENTS clients (default 20) each send
// CHAT_MESSAGES lines (default 10) and check they received every client's lines, each sender's
// in order. Prints `chat: …` and a `RESULT {…}` line; exits 0 when everyone got everything.
//
//   npm run build && npx tsc --ignoreConfig --strict --module nodenext --moduleResolution nodenext \
//     --types node --rootDir examples --outDir .tmp/examples examples/chat-broadcast.ts \
//     && node .tmp/examples/chat-broadcast.js
// (compiled inside the package, so `websocket-streams` resolves to this package's dist/).
import { connect, serve, type Connection } from 'websocket-streams/node';

const CLIENTS = positiveInteger('CHAT_CLIENTS', 20);
const MESSAGES = positiveInteger('CHAT_MESSAGES', 10);

function positiveInteger(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${process.env[name]}`);
  return value;
}

async function main(): Promise<void> {
  let joined = 0;
  let allJoined!: () => void;
  const everyoneHere = new Promise<void>((resolve) => (allJoined = resolve));

  let broadcasts = 0;
  let skipped = 0;
  const server = await serve({ host: '127.0.0.1', port: 0 }, async (conn: Connection) => {
    if (++joined === CLIENTS) allJoined();
    for await (const msg of conn) {
      if (msg.type !== 'text') continue;
      // Connections that cannot keep up (over 1 MiB queued) are skipped, not buffered for.
      skipped += server.broadcast(await msg.text()).skipped;
      broadcasts++;
    }
  });

  try {
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => connect(server.url)));
    await everyoneHere;
    const received = await Promise.all(clients.map((conn, id) => chat(conn, id)));
    const expected = CLIENTS * MESSAGES;
    const ok = received.every((n) => n === expected) && skipped === 0;
    if (ok) console.log(`chat: ${CLIENTS} clients received ${expected} messages each`);
    console.log(`RESULT ${JSON.stringify({ ok, clients: CLIENTS, messagesEach: expected, broadcasts, skipped })}`);
    if (!ok) process.exitCode = 1;
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
  console.log(`RESULT ${JSON.stringify({ ok: false, error: String(err) })}`);
  process.exitCode = 1;
});
