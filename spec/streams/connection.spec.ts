import { Connection } from '../../lib/streams/connection';
import { WebSocketError } from '../../lib/streams/errors';
import { ReadableStream, WritableStream, usingPonyfill } from '../../lib/streams/stream-classes';
import type { Extension } from '../../lib/protocol/extension';
import { connectionPair, concat, hex, rawServer, readAll, toHex } from '../helpers/connection-pair';

const enc = new TextEncoder();

/** A masked client frame as raw bytes (mask key 00000000 keeps the payload readable). */
function clientFrame(opcode: number, payload: Uint8Array | string, fin = true, rsv = 0): Uint8Array {
  const p = typeof payload === 'string' ? enc.encode(payload) : payload;
  const b0 = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  if (p.length < 126) return concat([new Uint8Array([b0, 0x80 | p.length, 0, 0, 0, 0]), p]);
  if (p.length < 65536) return concat([new Uint8Array([b0, 0x80 | 126, p.length >> 8, p.length & 255, 0, 0, 0, 0]), p]);
  const h = new Uint8Array(14);
  h[0] = b0; h[1] = 0x80 | 127;
  new DataView(h.buffer).setUint32(6, p.length);
  return concat([h, p]);
}

/** Server frames the raw peer received, parsed minimally (server frames are unmasked). */
function serverFrames(bytes: Uint8Array): Array<{ opcode: number; fin: boolean; payload: Uint8Array }> {
  const out = [];
  let i = 0;
  while (i < bytes.length) {
    const fin = (bytes[i]! & 0x80) !== 0;
    const opcode = bytes[i]! & 0x0f;
    let len = bytes[i + 1]! & 0x7f;
    i += 2;
    if (len === 126) { len = (bytes[i]! << 8) | bytes[i + 1]!; i += 2; }
    else if (len === 127) { len = new DataView(bytes.buffer, bytes.byteOffset + i).getUint32(4); i += 8; }
    out.push({ opcode, fin, payload: bytes.slice(i, i + len) });
    i += len;
  }
  return out;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe(`Connection (${usingPonyfill ? 'ponyfill' : 'native'} streams)`, () => {
  it('Connection delivers a text and a binary message from client to server', async () => {
    const { client, server } = connectionPair();
    await client.send('hello');
    await client.send(new Uint8Array([1, 2, 3]));
    const m1 = (await server.nextMessage())!;
    expect(m1.type).toBe('text');
    expect(await m1.text()).toBe('hello');
    const m2 = (await server.nextMessage())!;
    expect(m2.type).toBe('binary');
    expect(Array.from(await m2.bytes())).toEqual([1, 2, 3]);
    await client.close(1000);
  });

  it('Connection echoes through readable.pipeTo(writable), fragmented and empty messages included', async () => {
    const { client, server } = connectionPair();
    const echo = server.readable.pipeTo(server.writable);
    const big = new Uint8Array(300_000).map((_, i) => i * 7);
    await client.send('a');
    await client.send(big, { fragmentSize: 65_536 });
    await client.send(new Uint8Array(0));
    await client.send({ type: 'text', data: enc.encode('typed') });
    expect(await (await client.nextMessage())!.text()).toBe('a');
    const b = await (await client.nextMessage())!.bytes();
    expect(toHex(b.subarray(0, 64))).toBe(toHex(big.subarray(0, 64)));
    expect(b.length).toBe(big.length);
    expect(Buffer.compare(Buffer.from(b), Buffer.from(big))).toBe(0);
    const e = (await client.nextMessage())!;
    expect(e.type).toBe('binary');
    expect((await e.bytes()).length).toBe(0);
    expect(await (await client.nextMessage())!.text()).toBe('typed');
    const info = await client.close(1000, 'done');
    await echo;
    // The initiator reports the peer's echo (RFC 6455 §7.1.5: the code of the close frame
    // received); the echo repeats the payload as received.
    expect(info).toEqual({ wasClean: true, code: 1000, reason: 'done', endedBy: 'close-handshake' });
    expect(await server.closed).toEqual({ wasClean: true, code: 1000, reason: 'done', endedBy: 'close-handshake' });
  });

  it('Connection streams a message sent from a ReadableStream and read with stream()', async () => {
    const { client, server } = connectionPair();
    const chunks = 80;
    const chunk = new Uint8Array(65_536).fill(9);
    let n = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(c) { if (n++ < chunks) c.enqueue(chunk); else c.close(); },
    });
    const sent = client.send(source);
    const msg = (await server.nextMessage())!;
    const got = await readAll(msg.stream());
    await sent;
    expect(got.length).toBe(chunks * chunk.length);
    expect(got.every((x) => x === 9)).toBe(true);
    await client.close();
  });

  it('Connection gives each frame with its header and payload in wire order', async () => {
    const { client, server } = connectionPair();
    const w = client.beginMessage('binary');
    await w.sendFrame(new Uint8Array([1]));
    const s = w.beginFrame(3).getWriter();
    await s.write(new Uint8Array([2, 3]));
    await s.write(new Uint8Array([4]));
    await w.sendFrame(new Uint8Array(0), { fin: true });
    const msg = (await server.nextMessage())!;
    const frames = [];
    for await (const f of msg.frames as unknown as AsyncIterable<import('../../lib/streams/incoming-frame').IncomingFrame>) {
      frames.push({ opcode: f.opcode, fin: f.fin, length: f.length, data: Array.from(await readAll(f.data)) });
    }
    expect(frames).toEqual([
      { opcode: 2, fin: false, length: 1, data: [1] },
      { opcode: 0, fin: false, length: 3, data: [2, 3, 4] },
      { opcode: 0, fin: true, length: 0, data: [] },
    ]);
    await client.close();
  });

  it('MessageWriter.beginFrame errors when more bytes than declared are written', async () => {
    const { client } = connectionPair();
    const w = client.beginMessage('binary');
    const s = w.beginFrame(2).getWriter();
    await expect(s.write(new Uint8Array(3))).rejects.toMatchObject({ kind: 'FRAME_LENGTH_MISMATCH' });
  });

  it('Connection.beginMessage refuses a second message before end()', () => {
    const { client } = connectionPair();
    client.beginMessage('text');
    expect(() => client.beginMessage('text')).toThrow(/previous message has not ended/);
  });

  it('Connection discards the unread rest of a message when the next one is asked for', async () => {
    const { client, server } = connectionPair();
    await client.send(new Uint8Array(200_000), { fragmentSize: 1000 });
    await client.send('second');
    const first = (await server.nextMessage())!;
    expect(first.type).toBe('binary');
    const second = (await server.nextMessage())!;
    expect(await second.text()).toBe('second');
    await client.close();
  });

  it('Connection pauses the transport while nobody reads, then delivers everything intact', async () => {
    const { client, server, serverTransport } = connectionPair({ server: { receiveHighWaterMark: 64 * 1024 }, hwm: 256 * 1024 });
    const total = 4 * 1024 * 1024;
    const payload = new Uint8Array(total).map((_, i) => i & 0xff);
    let sendDone = false;
    const sending = client.send(payload, { fragmentSize: 16 * 1024 }).then(() => (sendDone = true));
    const msg = (await server.nextMessage())!;
    for (let i = 0; i < 20; i++) await tick();
    // Nobody reads the payload: the server stopped taking bytes and the client is held back.
    expect(serverTransport.paused).toBe(true);
    expect(sendDone).toBe(false);
    expect(client.bufferedAmount).toBeGreaterThan(0);
    const got = await msg.bytes();
    await sending;
    expect(got.length).toBe(total);
    expect(got.every((x, i) => x === (i & 0xff))).toBe(true);
    await client.close();
  });

  it('Connection resumes a paused transport only once half the receive mark is free, not after every chunk', async () => {
    const mark = 64 * 1024;
    const { client, server, serverTransport } = connectionPair({ server: { receiveHighWaterMark: mark }, hwm: 256 * 1024 });
    let resumes = 0;
    const resume = serverTransport.resume.bind(serverTransport);
    serverTransport.resume = () => {
      resumes++;
      resume();
    };
    const total = 4 * 1024 * 1024;
    const sending = client.send(new Uint8Array(total).fill(7), { fragmentSize: 16 * 1024 });
    const reader = (await server.nextMessage())!.stream().getReader();
    let got = 0;
    for (;;) {
      // A slow consumer: the receive mark fills up between reads.
      await tick();
      const { done, value } = await reader.read();
      if (done) break;
      got += value.length;
    }
    await sending;
    expect(got).toBe(total);
    // Each resume must let in at least half a mark (32 KiB): resuming as soon as one 16 KiB
    // chunk is taken would need twice as many.
    expect(resumes).toBeGreaterThan(0);
    expect(resumes).toBeLessThanOrEqual(total / (mark / 2) + 8);
    await client.close();
  });

  it('Connection answers a ping with a pong carrying the same data and reports both', async () => {
    const { client, server } = connectionPair();
    const pings: string[] = [];
    server.onPing = (d) => pings.push(new TextDecoder().decode(d));
    const pong = new Promise<string>((r) => (client.onPong = (d) => r(new TextDecoder().decode(d))));
    const serverReading = server.nextMessage();
    client.ping('are you there');
    expect(await pong).toBe('are you there');
    expect(pings).toEqual(['are you there']);
    await client.close();
    expect(await serverReading).toBeUndefined();
  });

  it('Connection answers a ping that arrives between the fragments of a message', async () => {
    const { server, peer } = rawServer();
    peer.write([clientFrame(1, 'he', false), clientFrame(9, 'p'), clientFrame(0, 'llo', true)]);
    const msg = (await server.nextMessage())!;
    expect(await msg.text()).toBe('hello');
    const frames = serverFrames(concat(peer.peer.written));
    expect(frames).toEqual([{ opcode: 0xa, fin: true, payload: enc.encode('p') }]);
  });

  it('Connection completes the close handshake both ways with the code and reason', async () => {
    const { client, server } = connectionPair();
    const serverSide = server.nextMessage();
    const info = await server.close(4001, 'server says bye');
    expect(await serverSide).toBeUndefined();
    expect(info).toEqual({ wasClean: true, code: 4001, reason: 'server says bye', endedBy: 'close-handshake' });
    expect(await client.closed).toEqual({ wasClean: true, code: 4001, reason: 'server says bye', endedBy: 'close-handshake' });
  });

  it('Connection reports 1005 when the peer closes without a code', async () => {
    const { client, server } = connectionPair();
    void server.nextMessage();
    await client.close();
    expect(await server.closed).toEqual({ wasClean: true, code: 1005, reason: '', endedBy: 'close-handshake' });
  });

  it('Connection.close refuses codes that may not be sent', () => {
    const { client } = connectionPair();
    expect(() => client.close(1005)).toThrow(RangeError);
    expect(() => client.close(1000, 'x'.repeat(124))).toThrow(RangeError);
  });

  it('Connection fails with 1002 on an unmasked client frame and sends that close code', async () => {
    const { server, peer } = rawServer();
    const reading = server.nextMessage();
    peer.write([hex('810548656c6c6f')]); // RFC 6455 §5.7 unmasked "Hello": a server must refuse it
    expect(await reading).toBeUndefined();
    const frames = serverFrames(concat(peer.peer.written));
    expect(frames[0]!.opcode).toBe(8);
    expect((frames[0]!.payload[0]! << 8) | frames[0]!.payload[1]!).toBe(1002);
    peer.end();
    expect(await server.closed).toMatchObject({ wasClean: false, code: 1002, endedBy: 'protocol-error' });
  });

  it('Connection fails with 1007 on invalid UTF-8 and errors the open message stream', async () => {
    const { server, peer } = rawServer();
    peer.write([clientFrame(1, new Uint8Array([0x61, 0x62]), false)]);
    const msg = (await server.nextMessage())!;
    const reading = readAll(msg.stream());
    peer.write([clientFrame(0, new Uint8Array([0xed, 0xa0, 0x80]), true)]);
    const err = await reading.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebSocketError);
    expect((err as WebSocketError).closeCode).toBe(1007);
    const frames = serverFrames(concat(peer.peer.written));
    expect((frames[0]!.payload[0]! << 8) | frames[0]!.payload[1]!).toBe(1007);
  });

  it('Connection fails with 1009 when a message grows past maxMessageSize', async () => {
    const { server, peer } = rawServer({ maxMessageSize: 10 });
    peer.write([clientFrame(2, new Uint8Array(6), false), clientFrame(0, new Uint8Array(6), true)]);
    const msg = (await server.nextMessage())!;
    await expect(msg.bytes()).rejects.toMatchObject({ closeCode: 1009 });
    const frames = serverFrames(concat(peer.peer.written));
    expect((frames[0]!.payload[0]! << 8) | frames[0]!.payload[1]!).toBe(1009);
  });

  it('Connection errors an open message with 1006 when the transport is lost', async () => {
    const { client, server, clientTransport } = connectionPair();
    const w = client.beginMessage('binary');
    await w.sendFrame(new Uint8Array(10));
    const msg = (await server.nextMessage())!;
    const reading = msg.bytes();
    clientTransport.destroy();
    await expect(reading).rejects.toMatchObject({ closeCode: 1006, kind: 'CONNECTION_LOST' });
    expect(await server.closed).toEqual({ wasClean: false, code: 1006, reason: '', endedBy: 'transport-error', error: expect.any(Error) });
  });

  it('Connection rejects a send whose encoder is disposed mid-message with the 1006 the connection was lost with', async () => {
    // An asynchronous encoder (as zlib is) that fails once disposed, as a closed codec does.
    let started!: () => void;
    const encoding = new Promise<void>((r) => (started = r));
    let fail: ((err: Error) => void) | undefined;
    const slowEncoder: Extension = {
      name: 'x-slow', rsvBits: 0b100,
      checkIncomingFrame: () => undefined,
      createDecoder: () => undefined,
      createEncoder: () => ({
        rsv: 0b100,
        transform: {
          transform: () => new Promise<void>((_, reject) => {
            fail = reject;
            started();
          }),
          flush: () => undefined,
          dispose: () => fail?.(new Error('The codec was closed')),
        },
      }),
      close: () => undefined,
    };
    const { client, clientTransport } = connectionPair({ clientExtensions: [slowEncoder] });
    const sending = client.send('a message being compressed');
    await encoding;
    clientTransport.destroy();
    await expect(sending).rejects.toMatchObject({ name: 'WebSocketError', closeCode: 1006, kind: 'CONNECTION_LOST' });
  });

  it('Connection drops the transport when the peer never answers the close', async () => {
    const { server, peer } = rawServer({ closeTimeout: 50 });
    const info = await server.close(1000);
    expect(info).toEqual({ wasClean: false, code: 1006, reason: '', endedBy: 'close-timeout' });
    expect(peer.closed).toBe(true);
  });

  it('Connection sends a pong and a ping between fragments of a message being streamed, never inside a frame', async () => {
    const { server, peer } = rawServer();
    const w = server.beginMessage('binary');
    const frame = w.beginFrame(4).getWriter();
    await frame.write(new Uint8Array([1, 2]));
    peer.write([clientFrame(9, 'x')]);
    for (let i = 0; i < 5; i++) await tick();
    // The ping was read while the frame is half written: its pong waits for the frame.
    expect(toHex(concat(peer.peer.written))).toBe('02040102');
    await frame.write(new Uint8Array([3, 4]));
    await w.end();
    const frames = serverFrames(concat(peer.peer.written));
    expect(frames.map((f) => [f.opcode, f.fin, Array.from(f.payload)])).toEqual([
      [2, false, [1, 2, 3, 4]],
      [0xa, true, Array.from(enc.encode('x'))],
      [0, true, []],
    ]);
  });

  it('Connection keeps memory bounded for a message of 1,000,000 empty continuation frames', async () => {
    const { server, peer } = rawServer({ maxFragments: 2_000_000 });
    const empty = clientFrame(0, new Uint8Array(0), false);
    const batch = concat(Array.from({ length: 10_000 }, () => empty));
    const msgP = server.nextMessage();
    peer.write([clientFrame(2, new Uint8Array([7]), false)]);
    const msg = (await msgP)!;
    const result = msg.bytes();
    const before = process.memoryUsage().rss;
    let peak = before;
    for (let i = 0; i < 100; i++) {
      peer.write([batch]);
      while (peer.bufferedAmount > 0) await tick();
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    peer.write([clientFrame(0, new Uint8Array([8]), true)]);
    expect(Array.from(await result)).toEqual([7, 8]);
    // 1,000,000 frames of wire overhead (6 MB) went through; nothing per frame may stay.
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
  }, 120_000);

  it('Connection writable accepts strings, bytes, Blobs, streams and typed messages', async () => {
    const { client, server } = connectionPair();
    const w = client.writable.getWriter();
    await w.write('t');
    await w.write(new Uint16Array([0x0201]));
    await w.write(new Blob([new Uint8Array([5, 6])]));
    await w.write(new ReadableStream<Uint8Array>({ start(c) { c.enqueue(new Uint8Array([7])); c.close(); } }));
    await w.write({ type: 'text', data: new Uint8Array([0x68, 0x69]) });
    const got = [];
    for (let i = 0; i < 5; i++) {
      const m = (await server.nextMessage())!;
      got.push([m.type, Array.from(await m.bytes())]);
    }
    expect(got).toEqual([
      ['text', [0x74]], ['binary', [1, 2]], ['binary', [5, 6]], ['binary', [7]], ['text', [0x68, 0x69]],
    ]);
    await w.close();
    expect(await client.closed).toMatchObject({ wasClean: true, code: 1000 });
  });

  it('Connection streams a received message through to another connection frame by frame', async () => {
    const a = connectionPair();
    const b = connectionPair();
    // a.server forwards each message it receives to b.server's peer (b.client).
    const forwarding = a.server.readable.pipeTo(b.server.writable);
    const w = a.client.beginMessage('text');
    await w.sendFrame('ab');
    await w.sendFrame('cd', { fin: true });
    const m = (await b.client.nextMessage())!;
    const frames = [];
    const reader = m.frames.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      frames.push([value.opcode, value.fin, new TextDecoder().decode(await value.bytes())]);
    }
    expect(frames).toEqual([[1, false, 'ab'], [0, true, 'cd']]);
    await a.client.close();
    await forwarding;
    await b.client.close();
  });

  it('Connection pipes a message into a WritableStream sink of any kind', async () => {
    const { client, server } = connectionPair();
    let total = 0;
    const sink = new WritableStream<Uint8Array>({ write(c) { total += c.length; } });
    await client.send(new Uint8Array(100_000), { fragmentSize: 7_000 });
    await (await server.nextMessage())!.stream().pipeTo(sink);
    expect(total).toBe(100_000);
    await client.close();
  });
});

export {};
void Connection;
