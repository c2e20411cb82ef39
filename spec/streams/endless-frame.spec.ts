// Issue #4: one frame of 2^63 − 1 bytes (Autobahn's streaming demo) between two connections.
import type { IncomingFrame } from '../../lib/streams/incoming-frame';
import { WebSocketProtocol } from '../../lib/tiers/websocket-protocol';
import { connectionPair, toHex } from '../helpers/connection-pair';

const MAX = 2n ** 63n - 1n;
const unlimited = { maxFrameSize: Infinity, maxMessageSize: Infinity };

async function firstFrame(p: ReturnType<typeof connectionPair>): Promise<IncomingFrame> {
  const msg = (await p.server.nextMessage())!;
  const { value } = await msg.frames.getReader().read();
  return value!;
}

describe('issue #4: a frame declared as 2^63 − 1 bytes (stream tier)', () => {
  it('puts the exact 64-bit length on the wire and the receiver streams it, length a bigint', async () => {
    const p = connectionPair({ server: unlimited, client: { maskKeySource: () => new Uint8Array(4) } });
    const frame = p.client.beginMessage('binary').beginFrame(MAX, { fin: true }).getWriter();
    await frame.write(new Uint8Array([1, 2, 3]));
    expect(toHex(p.clientTransport.written[0]!)).toBe('82ff7fffffffffffffff00000000');
    const got = await firstFrame(p);
    expect(got.length).toBe(MAX);
    expect(got.fin).toBe(true);
    const reader = got.data.getReader();
    expect(Array.from((await reader.read()).value!)).toEqual([1, 2, 3]);
    await frame.write(new Uint8Array([4]));
    expect(Array.from((await reader.read()).value!)).toEqual([4]);

    // The sender closing cannot put a close frame inside the frame: TCP ends, both see 1006.
    const closing = p.client.close(1000);
    await expect(reader.read()).rejects.toMatchObject({ name: 'WebSocketError', closeCode: 1006, kind: 'CONNECTION_LOST' });
    expect(await closing).toEqual({ wasClean: false, code: 1006, reason: '', endedBy: 'abandoned', error: expect.any(Error) });
    expect(await p.server.closed).toEqual({ wasClean: false, code: 1006, reason: '', endedBy: 'transport-ended' });
    await expect(frame.write(new Uint8Array([5]))).rejects.toBeDefined();
  });

  it('the receiver closing ends it too: the sender cannot echo inside its frame and ends TCP', async () => {
    const p = connectionPair({ server: unlimited });
    const frame = p.client.beginMessage('binary').beginFrame(MAX).getWriter();
    await frame.write(new Uint8Array(10));
    const got = await firstFrame(p);
    const reader = got.data.getReader();
    expect((await reader.read()).value!.length).toBe(10);
    const closing = p.server.close(1000);
    await expect(reader.read()).rejects.toMatchObject({ name: 'WebSocketError' });
    expect(await closing).toMatchObject({ wasClean: false, code: 1006 });
    // The sender learnt the receiver's code, but its echo never went out.
    expect(await p.client.closed).toMatchObject({ wasClean: false, code: 1000 });
  });

  it('a receiver with the default limits refuses it from the header with 1009', async () => {
    const p = connectionPair();
    const frame = p.client.beginMessage('binary').beginFrame(MAX).getWriter();
    void frame.write(new Uint8Array(1)).catch(() => undefined);
    expect(await p.server.closed).toMatchObject({ wasClean: false, code: 1009, endedBy: 'protocol-error' });
    expect(await p.client.closed).toMatchObject({ wasClean: false, code: 1009 });
  });

  it('a client masking a streamed frame leaves the Buffer it was given untouched (found by demo/streaming)', async () => {
    const p = connectionPair({ server: unlimited });
    const frame = p.client.beginMessage('binary').beginFrame(MAX).getWriter();
    const data = Buffer.from([1, 2, 3, 4, 5]);
    await frame.write(data);
    expect(Array.from(data)).toEqual([1, 2, 3, 4, 5]);
    const reader = (await firstFrame(p)).data.getReader();
    expect(Array.from((await reader.read()).value!)).toEqual([1, 2, 3, 4, 5]);
    await p.client.close(1000);
  });

  it('beginFrame refuses an unsafe number and lengths past 2^63 − 1 at once', () => {
    const p = connectionPair();
    const w = p.client.beginMessage('binary');
    expect(() => w.beginFrame(2 ** 63 - 1)).toThrow(/pass it as a bigint/);
    expect(() => w.beginFrame(2n ** 63n)).toThrow(RangeError);
    expect(() => w.beginFrame(-1)).toThrow(RangeError);
  });
});

describe('issue #4: the same on the Autobahn tier', () => {
  it('beginMessageFrame(2^63 − 1) streams to onMessageFrameBegin(bigint) and onMessageFrameData; a close ends it with onClose', async () => {
    const p = connectionPair({ server: unlimited, client: { maskKeySource: () => new Uint8Array([1, 2, 3, 4]) } });
    const log: unknown[] = [];
    let gotData!: () => void;
    const dataSeen = new Promise<void>((r) => (gotData = r));
    class Receiver extends WebSocketProtocol {
      override onMessageBegin(isBinary: boolean) { log.push(['begin', isBinary]); }
      override onMessageFrameBegin(length: number | bigint) { log.push(['frame', length]); }
      override onMessageFrameData(chunk: Uint8Array) { log.push(['data', chunk.length]); gotData(); }
      override onMessageFrameEnd() { log.push(['frame-end']); }
      override onMessageEnd() { log.push(['end']); }
      override onClose(wasClean: boolean, code: number) { log.push(['close', wasClean, code]); }
    }
    const sender = new WebSocketProtocol();
    const senderRun = sender.run(p.client);
    const receiverRun = new Receiver().run(p.server);
    sender.beginMessage(true);
    expect(() => sender.beginMessageFrame(2 ** 63 - 1)).toThrow(/bigint/);
    sender.beginMessageFrame(MAX);
    await sender.sendMessageFrameData(new Uint8Array(1024));
    await dataSeen;
    // On the wire: binary without FIN (endMessage() would send the final frame), MASK + 127,
    // the 64-bit length 2^63 − 1, then the key.
    expect(toHex(p.clientTransport.written[0]!)).toBe('02ff7fffffffffffffff01020304');
    expect(() => sender.endMessage()).toThrow(/still needs 9223372036854774783 bytes/);
    await sender.sendClose(1000);
    await Promise.all([senderRun, receiverRun]);
    expect(log[0]).toEqual(['begin', true]);
    expect(log[1]).toEqual(['frame', MAX]);
    expect(log.filter((e) => (e as unknown[])[0] === 'data').reduce((n: number, e) => n + ((e as number[])[1] as number), 0)).toBe(1024);
    expect(log.at(-1)).toEqual(['close', false, 1006]);
    expect(log).not.toContainEqual(['frame-end']);
  });
});
