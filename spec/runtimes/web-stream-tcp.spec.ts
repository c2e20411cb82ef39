// The runtime-neutral core over real loopback TCP, with no Node adapter: sockets as web streams
// from the runtime's own TCP API (Deno.listen/Deno.connect in Deno; node:net through
// Duplex.toWeb() in Node and Bun), a WebStreamTransport, and the sans-I/O opening handshake.
// Runs under jest on Node and, from spec/runtimes/runtimes.spec.ts, under Deno and Bun.
import { PerMessageDeflate } from '../../lib/index';
import { zlibEngine } from '../../lib/node/zlib-engine';
import type { Connection } from '../../lib/streams/connection';
import { clientOverStreams, serverOverStreams } from './stream-handshake';
import { connectStream, listenStreams, STREAM_SOCKET_API } from './stream-socket';
import { startWireTap } from './wire-tap';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function nextBytes(conn: Connection): Promise<{ type: string; data: Uint8Array }> {
  const msg = await conn.nextMessage();
  if (msg === undefined) throw new Error('The connection ended before the echo');
  return { type: msg.type, data: await msg.bytes() };
}

/** 1 MiB that deflate shrinks to a few KiB: a repeating pattern of 251 bytes. */
const compressible = (): Uint8Array => new Uint8Array(1 << 20).map((_, i) => (i % 251) * 7);
const TEXT = 'echo ü € 𝄞 '.repeat(1000);

describe.each([false, true])(`WebStreamTransport over ${STREAM_SOCKET_API}, permessage-deflate %p`, (deflate) => {
  it('the sans-I/O handshake opens both ends, messages echo unchanged, and the close handshake ends both cleanly', async () => {
    const extensions = () => (deflate ? [new PerMessageDeflate(zlibEngine())] : []);
    const listener = await listenStreams();
    cleanups.push(() => listener.close());
    const serverSide = listener.accept().then((socket) => serverOverStreams(socket, extensions()));
    void serverSide.then((conn) => conn.readable.pipeTo(conn.writable)).catch(() => undefined);
    const tap = await startWireTap(listener.port);
    cleanups.push(() => tap.close());

    const client = await clientOverStreams(await connectStream(tap.port), `ws://127.0.0.1:${tap.port}/echo`, extensions());
    const server = await serverSide;
    expect(client.extensions).toBe(deflate ? 'permessage-deflate' : '');
    expect(server.extensions).toBe(client.extensions);

    const binary = compressible();
    await client.send(TEXT);
    await client.send(binary);
    const text = await nextBytes(client);
    expect(text.type).toBe('text');
    expect(new TextDecoder().decode(text.data)).toBe(TEXT);
    const bytes = await nextBytes(client);
    expect(bytes.type).toBe('binary');
    expect(bytes.data.length).toBe(binary.length);
    expect(Buffer.compare(bytes.data, binary)).toBe(0);

    // On the wire: compressed messages carry RSV1 (RFC 7692 §6) and far fewer payload bytes.
    const frames = tap.clientDataFrames;
    const wirePayload = frames.reduce((n, f) => n + Number(f.length), 0);
    const original = new TextEncoder().encode(TEXT).length + binary.length;
    if (deflate) {
      expect(frames[0]!.rsv & 4).toBe(4);
      expect(wirePayload).toBeLessThan(original / 20);
    } else {
      expect(frames.every((f) => f.rsv === 0)).toBe(true);
      expect(wirePayload).toBe(original);
    }

    expect(await client.close(1000, 'done')).toMatchObject({ wasClean: true, code: 1000, reason: 'done' });
    expect(await server.closed).toMatchObject({ wasClean: true, code: 1000, reason: 'done' });
  });
});
