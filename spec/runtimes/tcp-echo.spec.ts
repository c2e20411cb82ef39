// The Node adapter end to end over real loopback TCP, written once for every runtime: under
// jest it runs on Node; spec/runtimes/runtimes.spec.ts runs it under Deno and Bun, whose
// node:net, node:http and node:zlib then carry serve(), connect() and zlibEngine().
import { connect } from '../../lib/node/client';
import { serve, type WebSocketServerHandle } from '../../lib/node/server';
import type { Connection } from '../../lib/streams/connection';
import { startWireTap, type WireTap } from './wire-tap';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function echoServer(perMessageDeflate: boolean): Promise<WebSocketServerHandle> {
  const server = await serve({ host: '127.0.0.1', port: 0, perMessageDeflate }, (conn) =>
    conn.readable.pipeTo(conn.writable).catch(() => undefined));
  cleanups.push(() => server.close());
  return server;
}

async function tapTo(port: number): Promise<WireTap> {
  const tap = await startWireTap(port);
  cleanups.push(() => tap.close());
  return tap;
}

async function nextBytes(conn: Connection): Promise<{ type: string; data: Uint8Array }> {
  const msg = await conn.nextMessage();
  if (msg === undefined) throw new Error('The connection ended before the echo');
  return { type: msg.type, data: await msg.bytes() };
}

/** 1 MiB that deflate shrinks to a few KiB: a repeating pattern of 251 bytes. */
const compressible = (): Uint8Array => new Uint8Array(1 << 20).map((_, i) => (i % 251) * 7);
/** Text with 1-, 2-, 3- and 4-byte UTF-8 sequences. */
const TEXT = 'echo ü € 𝄞 '.repeat(1000);

describe.each([false, true])('the Node adapter over TCP, permessage-deflate %p', (deflate) => {
  it('serve() echoes text and binary messages to connect() unchanged, and closes cleanly with 1000', async () => {
    const server = await echoServer(deflate);
    const tap = await tapTo(server.port);
    const client = await connect(`ws://127.0.0.1:${tap.port}/`, { perMessageDeflate: deflate });
    expect(client.extensions).toBe(deflate ? 'permessage-deflate' : '');

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

    const serverSide = [...server.connections][0]!;
    expect(await client.close(1000, 'done')).toMatchObject({ wasClean: true, code: 1000, reason: 'done' });
    expect(await serverSide.closed).toMatchObject({ wasClean: true, code: 1000, reason: 'done' });
  });
});
