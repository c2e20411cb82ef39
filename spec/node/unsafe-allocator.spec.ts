import { once } from 'node:events';
import WebSocket from 'ws';
import { listenWS, WebSocketServerFactory } from '../../lib/node/autobahn';
import { serve } from '../../lib/node/server';
import { WebSocketServerProtocol } from '../../lib/tiers/server-protocol';

// The Node adapter collects whole messages into Buffer.allocUnsafeSlow memory (no zero fill).
// Here that memory is dirtied first (0xa5 everywhere, as reused heap memory may hold another
// connection's data): a payload the Autobahn tier delivers must carry none of it, in the view
// or anywhere else in its ArrayBuffer.

const DIRTY = 0xa5;

function strayBytes(out: Uint8Array): number {
  const all = new Uint8Array(out.buffer);
  let n = 0;
  for (let i = 0; i < all.length; i++) if ((i < out.byteOffset || i >= out.byteOffset + out.length) && all[i] !== 0) n++;
  return n;
}

const payloadOf = (n: number, seed: number) => Buffer.from(new Uint8Array(n).map((_, i) => ((i * 131 + seed) & 0xff) | 1));

describe('the Node adapter collects messages into unzeroed memory', () => {
  afterEach(() => jest.restoreAllMocks());

  it('allocates with Buffer.allocUnsafeSlow, and no dirty byte reaches onMessage', async () => {
    const real = Buffer.allocUnsafeSlow.bind(Buffer);
    const sizes: number[] = [];
    jest.spyOn(Buffer, 'allocUnsafeSlow').mockImplementation((size: number) => {
      sizes.push(size);
      return real(size).fill(DIRTY);
    });
    const got: Uint8Array[] = [];
    let all!: () => void;
    const done = new Promise<void>((r) => (all = r));
    class Collect extends WebSocketServerProtocol {
      override onMessage(payload: Uint8Array): void {
        got.push(payload);
        if (got.length === 3) all();
      }
    }
    const factory = new WebSocketServerFactory('ws://127.0.0.1:0');
    factory.protocol = Collect;
    const server = await listenWS(factory);
    const big = payloadOf(300_000, 1);
    const frags = [payloadOf(10, 2), payloadOf(10, 3), payloadOf(100, 4)];
    try {
      const ws = new WebSocket(server.url);
      await once(ws, 'open');
      ws.send(big); // one frame, larger than a socket read: collected from several chunks
      ws.send(frags[0], { fin: false }); // fragments: the buffer grows and keeps a tail
      ws.send(frags[1], { fin: false });
      ws.send(frags[2], { fin: true });
      ws.send(payloadOf(70_000, 5));
      await done;
      ws.close();
      await once(ws, 'close');
    } finally {
      await server.close();
    }
    expect(sizes).toContain(300_000);
    expect(Buffer.from(got[0]!).equals(big)).toBe(true);
    expect(Buffer.from(got[1]!).equals(Buffer.concat(frags))).toBe(true);
    expect(got[1]!.buffer.byteLength).toBeGreaterThan(got[1]!.length);
    for (const p of got) {
      expect(p.constructor).toBe(Uint8Array);
      expect(strayBytes(p)).toBe(0);
    }
  });

  it('hands out inflated data in memory of its own: nothing of the unzeroed zlib output buffer is reachable', async () => {
    // Node's zlib writes its output chunks one after another into a 64 KiB Buffer.allocUnsafe
    // buffer; dirty those, as reused heap memory may hold another connection's data.
    const real = Buffer.allocUnsafe.bind(Buffer);
    let outputBuffers = 0;
    jest.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => {
      if (size === 64 * 1024) outputBuffers++;
      return real(size).fill(DIRTY);
    });
    const whole: Uint8Array[] = [];
    const chunks: Uint8Array[] = [];
    let handled!: () => void;
    // The close is answered at once, before the handler has read the messages queued ahead of it.
    const handlerDone = new Promise<void>((r) => (handled = r));
    const server = await serve({ host: '127.0.0.1', port: 0, perMessageDeflate: true }, async (conn) => {
      let n = 0;
      for await (const msg of conn.readable) {
        if (n++ % 2 === 0) whole.push(await msg.bytes());
        else for await (const c of msg.stream()) chunks.push(c);
      }
      handled();
    });
    const json = (i: number) => JSON.stringify({ i, items: Array.from({ length: 40 }, (_, k) => ({ k, name: `item-${k}` })) });
    const sent = [json(1), json(2), 'x'.repeat(200_000), json(3)];
    try {
      const ws = new WebSocket(server.url, { perMessageDeflate: { threshold: 0 } });
      await once(ws, 'open');
      for (const m of sent) ws.send(m);
      ws.close();
      await once(ws, 'close');
      await handlerDone;
    } finally {
      await server.close();
    }
    expect(outputBuffers).toBeGreaterThan(0);
    const text = (parts: Uint8Array[]) => Buffer.concat(parts).toString();
    expect(whole.map((p) => Buffer.from(p).toString())).toEqual([sent[0], sent[2]]);
    expect(text(chunks)).toBe(sent[1]! + sent[3]!);
    for (const p of [...whole, ...chunks]) expect(strayBytes(p)).toBe(0);
  });
});
