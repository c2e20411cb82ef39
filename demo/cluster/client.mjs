// Clients of the cluster demo, through nginx: each says which worker it landed on, all join one
// room, each publishes a message, and every client must receive every message in the order its
// sender published, whichever worker the sender and the receiver are on.
//
//   node demo/cluster/client.mjs ws://127.0.0.1:8080 [--clients 4] [--messages 3]
//
// Exits 1 if a message is missing, duplicated or out of order, or if all clients landed on one
// worker (nothing crossed processes then).
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { connect } from '../../dist/node.mjs';

// A safety net for a lost message (the run then fails), far above what delivery takes.
const TIMEOUT_MS = 30_000;

/**
 * Runs `clients` clients against `url`, each publishing `messages` messages to `room:demo`;
 * resolves with what each client saw: its worker, and the messages in the order received.
 */
export async function run(url, { clients = 4, messages = 3, log = () => {} } = {}) {
  const topic = 'room:demo';
  const peers = [];
  try {
    for (let i = 0; i < clients; i++) {
      const conn = await connect(url);
      const hello = JSON.parse(await (await conn.nextMessage()).text());
      peers.push({ name: `client ${i + 1}`, conn, worker: hello.worker, forwardedFor: hello.forwardedFor, received: [] });
      log(`client ${i + 1} is on worker ${hello.worker} (X-Forwarded-For: ${hello.forwardedFor ?? 'none: not through a proxy'})`);
    }
    for (const p of peers) {
      await p.conn.send(JSON.stringify({ type: 'subscribe', topic }));
      const ack = JSON.parse(await (await p.conn.nextMessage()).text());
      if (ack.type !== 'subscribed') throw new Error(`${p.name}: expected a subscribe answer, got ${JSON.stringify(ack)}`);
    }
    const expected = clients * messages;
    const done = peers.map(async (p) => {
      while (p.received.length < expected) {
        const msg = await p.conn.nextMessage();
        if (!msg) throw new Error(`${p.name}: connection closed after ${p.received.length} of ${expected} messages`);
        const m = JSON.parse(await msg.text());
        if (m.type === 'message') p.received.push(m);
      }
    });
    for (let k = 0; k < messages; k++) {
      for (const p of peers) await p.conn.send(JSON.stringify({ type: 'publish', topic, text: `${p.name} #${k + 1}` }));
    }
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not every message arrived within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    });
    try {
      await Promise.race([Promise.all(done), timeout]);
    } finally {
      clearTimeout(timer);
    }
    return peers.map(({ name, worker, forwardedFor, received }) => ({ name, worker, forwardedFor, received }));
  } finally {
    await Promise.all(peers.map((p) => p.conn.close(1000)));
  }
}

/** What is wrong with a run's result: messages missing or out of order, or no process crossed. */
export function problems(result, messages) {
  const out = [];
  for (const r of result) {
    for (const sender of result) {
      const got = r.received.filter((m) => m.text.startsWith(`${sender.name} #`)).map((m) => m.text);
      const want = Array.from({ length: messages }, (_, k) => `${sender.name} #${k + 1}`);
      if (got.join('\n') !== want.join('\n')) out.push(`${r.name} got ${JSON.stringify(got)} from ${sender.name}, expected ${JSON.stringify(want)}`);
    }
  }
  if (new Set(result.map((r) => r.worker)).size < 2) out.push('every client landed on the same worker: no message crossed processes');
  return out;
}

/** Prints what each client received and any problem; returns whether the run was good. */
export function report(result, messages, log = console.log) {
  for (const r of result) {
    const crossed = r.received.filter((m) => m.from !== r.worker).length;
    log(`${r.name} (worker ${r.worker}) received ${r.received.length} messages, ${crossed} of them published on another worker`);
  }
  const bad = problems(result, messages);
  for (const p of bad) log(`problem: ${p}`);
  log(bad.length === 0 ? 'ok: every client got every message, in order, across processes' : 'FAILED');
  return bad.length === 0;
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { clients: { type: 'string' }, messages: { type: 'string' } } });
  const url = positionals[0] ?? 'ws://127.0.0.1:8080';
  const messages = Number(values.messages ?? 3);
  const result = await run(url, { clients: Number(values.clients ?? 4), messages, log: console.log });
  process.exitCode = report(result, messages) ? 0 : 1;
}
