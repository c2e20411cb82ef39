import { getEventListeners } from 'node:events';
import { ReadableStream } from '../../lib/streams/stream-classes';
import { connectionPair, rawServer } from '../helpers/connection-pair';
import { FakeClock, settle } from '../helpers/fake-clock';
import { framesOf } from '../helpers/wire';

// AbortSignal on the operations that wait: send(msg, { signal }), nextMessage({ signal }) and
// close(code, reason, { signal }). Each rejects with `signal.reason` (as fetch does), never
// loses data already accepted, and never drops a message the next caller should get.

const reasonOf = (label: string): Error => new Error(label);
const outcome = <T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> => p.then((value) => ({ value }), (error: unknown) => ({ error }));

/** Texts of the data frames a raw server wrote, by message (server frames are unmasked). */
function messagesWritten(written: readonly Uint8Array[]): string[] {
  const out: string[] = [];
  let cur: string | undefined;
  for (const f of framesOf(written)) {
    if (f.opcode >= 0x8) continue;
    cur = (f.opcode === 0 ? cur ?? '' : '') + f.text;
    if (f.fin) {
      out.push(cur);
      cur = undefined;
    }
  }
  return out;
}

describe('send(message, { signal })', () => {
  it('with a signal already aborted rejects with its reason and sends nothing', async () => {
    const { server, serverTransport } = rawServer();
    const reason = reasonOf('never mind');
    await expect(server.send('x', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await expect(server.send(new ReadableStream<Uint8Array>(), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(serverTransport.written).toEqual([]);
  });

  it('aborted while queued behind another message: removed, nothing of it on the wire, the messages around it intact', async () => {
    const { server, serverTransport } = rawServer();
    const w = server.beginMessage('text');
    await w.sendFrame('first-');
    const ac = new AbortController();
    const queued = outcome(server.send('second', { signal: ac.signal, fragmentSize: 2 }));
    const third = server.send('third', { fragmentSize: 2 });
    ac.abort(reasonOf('stop'));
    expect((await queued).error).toEqual(reasonOf('stop'));
    await w.sendFrame('message', { fin: true });
    await third;
    expect(messagesWritten(serverTransport.written)).toEqual(['first-message', 'third']);
    expect(server.readyState).toBe(1);
  });

  it('aborted in its turn before its first frame (the source had nothing yet): nothing sent, the next message goes', async () => {
    const { server, serverTransport } = rawServer();
    const ac = new AbortController();
    let cancelled: unknown;
    const source = new ReadableStream<Uint8Array>({ cancel: (r) => void (cancelled = r) });
    const pending = outcome(server.send(source, { signal: ac.signal }));
    await settle();
    ac.abort(reasonOf('no data came'));
    expect((await pending).error).toEqual(reasonOf('no data came'));
    await server.send('next');
    expect(messagesWritten(serverTransport.written)).toEqual(['next']);
    expect(cancelled).toEqual(reasonOf('no data came'));
    expect(server.readyState).toBe(1);
  });

  it('aborted in the middle of a message: the source is cancelled and the connection fails with 1011 between frames (a message cannot end early)', async () => {
    const { client, server } = connectionPair();
    const ac = new AbortController();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let cancelled: unknown;
    const source = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c), cancel: (r) => void (cancelled = r) });
    const sending = outcome(server.send(source, { signal: ac.signal }));
    controller.enqueue(new TextEncoder().encode('half '));
    const msg = (await client.nextMessage())!;
    const reading = outcome(msg.text());
    await settle();
    ac.abort(reasonOf('user gave up'));
    expect((await sending).error).toEqual(reasonOf('user gave up'));
    expect(cancelled).toEqual(reasonOf('user gave up'));
    // The peer never sees the half message as a whole one: it errors with the close that followed.
    expect((await reading).error).toMatchObject({ closeCode: 1011 });
    expect(await client.closed).toMatchObject({ code: 1011, endedBy: 'close-handshake' });
  });

  it('aborted once the message is written whole: nothing to undo, the send resolves and the connection stays open', async () => {
    const { client, server } = connectionPair();
    const ac = new AbortController();
    const sent = server.send('all of it', { signal: ac.signal, fragmentSize: 3 });
    await sent;
    ac.abort(reasonOf('late'));
    expect(await (await client.nextMessage())!.text()).toBe('all of it');
    expect(server.readyState).toBe(1);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });
});

describe('nextMessage({ signal })', () => {
  it('rejects with the reason and leaves the message that comes later for the next caller', async () => {
    const { client, server } = connectionPair();
    const ac = new AbortController();
    const waiting = outcome(server.nextMessage({ signal: ac.signal }));
    await settle();
    ac.abort(reasonOf('timeout'));
    expect((await waiting).error).toEqual(reasonOf('timeout'));
    await client.send('not lost');
    expect(await (await server.nextMessage())!.text()).toBe('not lost');
  });

  it('with a signal already aborted rejects at once and leaves the queued message and the one being read as they are', async () => {
    const { client, server } = connectionPair();
    await client.send('one');
    await client.send('two');
    const first = (await server.nextMessage())!;
    await expect(server.nextMessage({ signal: AbortSignal.abort(reasonOf('no')) })).rejects.toEqual(reasonOf('no'));
    expect(await first.text()).toBe('one');
    expect(await (await server.nextMessage())!.text()).toBe('two');
  });

  it('resolves as usual when the message comes first, and leaves no listener on a signal used for many calls', async () => {
    const { client, server } = connectionPair();
    const ac = new AbortController();
    for (let i = 0; i < 20; i++) {
      const next = server.nextMessage({ signal: ac.signal });
      await client.send(`m${i}`);
      expect(await (await next)!.text()).toBe(`m${i}`);
    }
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });
});

describe('close(code, reason, { signal })', () => {
  it('aborting stops the wait only: the closing handshake goes on and `closed` reports it', async () => {
    const clock = new FakeClock();
    const { server, peer, serverTransport } = rawServer({ clock });
    const ac = new AbortController();
    const closing = outcome(server.close(1000, 'done', { signal: ac.signal }));
    ac.abort(reasonOf('impatient'));
    expect((await closing).error).toEqual(reasonOf('impatient'));
    expect(framesOf(serverTransport.written).map((f) => [f.opcode, f.code])).toEqual([[0x8, 1000]]);
    // The peer never answers: the close timeout still bounds the handshake.
    void peer;
    await clock.tick(5_000);
    expect(await server.closed).toMatchObject({ code: 1006, endedBy: 'close-timeout' });
  });

  it('with a signal already aborted rejects at once and sends nothing', async () => {
    const { client, server } = connectionPair();
    await expect(server.close(1000, '', { signal: AbortSignal.abort(reasonOf('no')) })).rejects.toEqual(reasonOf('no'));
    expect(server.readyState).toBe(1);
    await client.send('still open');
    expect(await (await server.nextMessage())!.text()).toBe('still open');
  });

  it('resolves with the CloseInfo when the handshake completes before the abort', async () => {
    const { server } = connectionPair();
    const ac = new AbortController();
    expect(await server.close(4001, 'bye', { signal: ac.signal })).toMatchObject({ wasClean: true, code: 4001 });
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });
});
