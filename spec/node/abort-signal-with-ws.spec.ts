// AbortSignal on send, nextMessage and close, with ws as the peer over loopback TCP: what the
// peer sees is what the rules say (README "Ping, JSON, cancellation and handshake context").
import type WebSocket from 'ws';
import type { Connection } from '../../lib/streams/connection';
import { ReadableStream } from '../../lib/streams/stream-classes';
import { closeWsClientPairs, wsClientPair } from '../helpers/ws-client-pair';

afterEach(closeWsClientPairs);

/** `wsClientPair()`, with what the client receives and the close code it sees. */
async function pair(): Promise<{ conn: Connection; ws: WebSocket; received: string[]; closed: Promise<number> }> {
  const { conn, ws } = await wsClientPair();
  const received: string[] = [];
  ws.on('message', (data, isBinary) => received.push(isBinary ? `binary:${(data as Buffer).length}` : `text:${String(data)}`));
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  return { conn, ws, received, closed };
}

describe('AbortSignal with ws as the peer', () => {
  it('a send aborted in the middle of its message fails the connection: ws gets no message and sees 1011', async () => {
    const { conn, received, closed } = await pair();
    let pulls = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(c) {
        pulls++;
        c.enqueue(new Uint8Array(1000).fill(pulls)); // frames of a message that never ends by itself
      },
    }, { highWaterMark: 0 });
    const ac = new AbortController();
    const sending = conn.send(source, { signal: ac.signal });
    for (let i = 0; pulls < 3 && i < 10_000; i++) await new Promise((r) => setImmediate(r)); // some frames are on the wire
    ac.abort(new Error('user gave up'));
    await expect(sending).rejects.toThrow('user gave up');
    expect(await closed).toBe(1011);
    expect(received).toEqual([]);
  });

  it('a send aborted while queued behind another message never reaches ws; the messages around it do', async () => {
    const { conn, ws, received } = await pair();
    let release!: () => void;
    const first = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array([1]));
        release = () => c.close();
      },
    });
    const sendingFirst = conn.send(first);
    const ac = new AbortController();
    const queued = conn.send('never', { signal: ac.signal });
    ac.abort(new Error('not wanted'));
    await expect(queued).rejects.toThrow('not wanted');
    release();
    await sendingFirst;
    await conn.send('after');
    for (let i = 0; received.length < 2 && i < 10; i++) await new Promise((r) => ws.once("message", r));
    expect(received).toEqual(['binary:1', 'text:after']);
  });

  it('nextMessage aborted before ws sends leaves the message for the next call', async () => {
    const { conn, ws } = await pair();
    const ac = new AbortController();
    const waiting = conn.nextMessage({ signal: ac.signal });
    ac.abort(new Error('stop waiting'));
    await expect(waiting).rejects.toThrow('stop waiting');
    ws.send('kept');
    expect(await (await conn.nextMessage())!.text()).toBe('kept');
  });

  it('close with an aborted wait: the closing handshake still completes with ws (1000)', async () => {
    const { conn, closed } = await pair();
    const ac = new AbortController();
    const closing = conn.close(1000, 'bye', { signal: ac.signal });
    ac.abort(new Error('no more waiting'));
    await expect(closing).rejects.toThrow('no more waiting');
    expect(await closed).toBe(1000);
    expect(await conn.closed).toMatchObject({ wasClean: true, code: 1000 });
  });
});
