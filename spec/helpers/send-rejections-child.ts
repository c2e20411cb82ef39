// Run by spec/streams/send-rejections.spec.ts in a process of its own: sends whose promises
// nobody handles (`void conn.send(x)`), to connections that are lost or closing. Jest keeps
// the test's `process` apart from the real one, so `process.on('unhandledRejection')` only
// hears the real thing here. Each scenario fires its sends and forgets them, then lets a few
// turns of the event loop pass (setImmediate, no timers) so that any unhandled rejection is
// reported; it also awaits the same sends to record how they reject. Prints one JSON line:
// the outcomes and the unhandled rejections, by scenario.
import { once } from 'node:events';
import WebSocket from 'ws';
import { serve } from '../../lib/node/server';
import type { Connection } from '../../lib/streams/connection';
import { ReadableStream } from '../../lib/streams/stream-classes';
import { WebSocketProtocol } from '../../lib/tiers/websocket-protocol';
import { connectionPair } from './connection-pair';
import { UnhandledRecorder } from './unhandled-recorder';

export interface Rejection {
  name: string;
  message: string;
  closeCode?: number | null;
  kind?: string;
  isWebSocketError: boolean;
}
export type Outcome = 'resolved' | Rejection | { threw: Rejection };
export interface SendRejectionsReport {
  outcomes: Record<string, Record<string, Outcome>>;
  unhandled: Record<string, string[]>;
}

const recorder = new UnhandledRecorder();
const unhandled = recorder.byScenario;

const turns = async (n = 10): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

function rejection(err: unknown): Rejection {
  const e = err as { name?: string; message?: string; closeCode?: unknown; kind?: unknown };
  return {
    name: String(e?.name), message: String(e?.message),
    ...(typeof e?.closeCode === 'number' ? { closeCode: e.closeCode } : {}),
    ...(typeof e?.kind === 'string' ? { kind: e.kind } : {}),
    isWebSocketError: e?.name === 'WebSocketError',
  };
}

/** Calls `op` once and forgets it, and once more to see how it settles. */
async function fireAndAwait(op: () => Promise<unknown>): Promise<Outcome> {
  let forgotten: Promise<unknown> | undefined;
  try {
    forgotten = op();
  } catch (err) {
    return { threw: rejection(err) };
  }
  void forgotten;
  try {
    await op();
    return 'resolved';
  } catch (err) {
    return rejection(err);
  }
}

/** A send of every kind `send()` takes, and the tiers' sends. */
function everySend(conn: Connection): Record<string, () => Promise<unknown>> {
  class Tier extends WebSocketProtocol {}
  const tier = new Tier();
  void tier.run(conn);
  return {
    'send(string)': () => conn.send('text'),
    'send(bytes)': () => conn.send(new Uint8Array([1, 2, 3])),
    'send({type, data})': () => conn.send({ type: 'text', data: new Uint8Array([0x61]) }),
    'send(bytes, {fragmentSize})': () => conn.send(new Uint8Array(10), { fragmentSize: 3 }),
    'send(Blob)': () => conn.send(new Blob([new Uint8Array([1, 2])])),
    'send(ReadableStream)': () => conn.send(new ReadableStream({ start: (c) => { c.enqueue(new Uint8Array([1])); c.close(); } })),
    'tier sendMessage': () => tier.sendMessage('text'),
    'tier sendMessage(fragmentSize)': () => tier.sendMessage('text', false, 2),
  };
}

async function outcomesOf(ops: Record<string, () => Promise<unknown>>): Promise<Record<string, Outcome>> {
  const out: Record<string, Outcome> = {};
  for (const [name, op] of Object.entries(ops)) out[name] = await fireAndAwait(op);
  return out;
}

const scenarios: Record<string, () => Promise<Record<string, Outcome>>> = {
  /** The transport was lost and the connection is over (closed resolved with 1006). */
  async 'lost connection'() {
    const { client, clientTransport } = connectionPair();
    clientTransport.destroy();
    await client.closed;
    return outcomesOf(everySend(client));
  },

  /** The connection failed (the peer broke the protocol) and is over. */
  async 'failed connection'() {
    const { client, serverTransport } = connectionPair();
    serverTransport.write([new Uint8Array([0x83, 0x00])]); // a reserved opcode from the server
    serverTransport.end();
    await client.closed;
    return outcomesOf(everySend(client));
  },

  /** Our close frame is sent, the peer has not answered yet. */
  async 'closing (close() called)'() {
    const { client, serverTransport } = connectionPair();
    serverTransport.pause(); // the server reads nothing: it never answers
    void client.close(1000);
    const ops = everySend(client);
    const out = await outcomesOf(ops);
    serverTransport.destroy();
    await client.closed;
    return out;
  },

  /** Sends waiting for the transport to drain when the connection is lost. */
  async 'lost while sends wait for the drain'() {
    const { client, clientTransport, serverTransport } = connectionPair();
    serverTransport.pause(); // the peer reads nothing: our writes stay queued
    const big = new Uint8Array(128 * 1024);
    const forgotten = [client.send(big), client.send('queued behind'), client.send(big, { fragmentSize: 1024 })];
    const awaited = [client.send(big), client.send('queued behind')].map((p) => p.then(() => 'resolved' as const, rejection));
    void forgotten;
    await turns(2);
    clientTransport.destroy();
    const [a, b] = await Promise.all(awaited);
    return { 'send(big) pending': a!, 'send(text) queued': b! };
  },

  /** A message being sent frame by frame when the connection is lost. */
  async 'lost while a MessageWriter waits'() {
    const { client, clientTransport, serverTransport } = connectionPair();
    serverTransport.pause();
    const w = client.beginMessage('binary');
    void w.sendFrame(new Uint8Array(128 * 1024));
    const pending = w.sendFrame(new Uint8Array(128 * 1024)).then(() => 'resolved' as const, rejection);
    const queued = client.send('behind the writer');
    const queuedOutcome = client.send('behind the writer too').then(() => 'resolved' as const, rejection);
    void queued;
    await turns(2);
    clientTransport.destroy();
    await client.closed;
    const out: Record<string, Outcome> = { 'sendFrame pending': await pending, 'send queued behind a writer': await queuedOutcome };
    out['sendFrame after the loss'] = await fireAndAwait(() => w.sendFrame(new Uint8Array(1)));
    out['end() after the loss'] = await fireAndAwait(() => w.end());
    out['beginMessage after the loss'] = await fireAndAwait(() => client.beginMessage('text').end());
    return out;
  },

  /** `for (const c of server.connections) void c.send(text)` with one ws client destroyed. */
  async 'server broadcast with one client gone (real TCP)'() {
    const server = await serve({ host: '127.0.0.1', port: 0 }, (conn) => {
      void (async () => {
        for await (const m of conn) void m;
      })().catch(() => undefined);
    });
    const clients = await Promise.all([0, 1, 2].map(async () => {
      const ws = new WebSocket(server.url, { perMessageDeflate: false });
      ws.on('error', () => undefined);
      await once(ws, 'open');
      return ws;
    }));
    while (server.connections.size < 3) await turns(1);
    const goneWs = clients[1]!;
    const gonePort = (goneWs as unknown as { _socket: { localPort: number } })._socket.localPort;
    const lost = [...server.connections].find((c) => c.handshake.remotePort === gonePort)!;
    let lostOver = false;
    void lost.closed.then(() => (lostOver = true));
    goneWs.terminate(); // the socket is destroyed, no close frame
    const big = 'x'.repeat(2 * 1024 * 1024);
    for (const c of server.connections) void c.send(big);
    let rounds = 0;
    while (!lostOver) {
      for (const c of server.connections) void c.send(`update ${rounds}`);
      rounds++;
      await turns(1);
    }
    for (const c of [...server.connections, lost]) void c.send('after the loss');
    const out: Record<string, Outcome> = { 'send to the lost connection': await fireAndAwait(() => lost.send('after the loss')) };
    for (const ws of clients) ws.terminate();
    await server.close();
    return out;
  },
};

async function main(): Promise<void> {
  const outcomes: SendRejectionsReport['outcomes'] = {};
  for (const [name, run] of Object.entries(scenarios)) {
    recorder.current = name;
    outcomes[name] = await run();
    await turns();
  }
  recorder.current = 'after all scenarios';
  await turns();
  const report: SendRejectionsReport = { outcomes, unhandled };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

void main().catch((err: unknown) => {
  process.stderr.write(String(err instanceof Error ? err.stack : err));
  process.exit(1);
});
