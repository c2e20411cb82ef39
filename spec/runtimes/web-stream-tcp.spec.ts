// The runtime-neutral core over real loopback TCP, with no Node adapter: sockets as web streams
// from the runtime's own TCP API (Deno.listen/Deno.connect in Deno; node:net wrapped as web
// streams in Node and Bun), a WebStreamTransport, and the sans-I/O opening handshake.
// Runs under jest on Node and, from spec/runtimes/runtimes.spec.ts, under Deno and Bun.
import { PerMessageDeflate } from '../../lib/index';
import { zlibEngine } from '../../lib/node/zlib-engine';
import { clientOverStreams, serverOverStreams } from './stream-handshake';
import { connectStream, listenStreams, STREAM_SOCKET_API } from './stream-socket';
import { expectEchoAndWire } from './echo-check';
import { startWireTap } from './wire-tap';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

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

    await expectEchoAndWire(client, tap, deflate);

    expect(await client.close(1000, 'done')).toMatchObject({ wasClean: true, code: 1000, reason: 'done' });
    expect(await server.closed).toMatchObject({ wasClean: true, code: 1000, reason: 'done' });
  });
});
