// The Node adapter end to end over real loopback TCP, written once for every runtime: under
// jest it runs on Node; spec/runtimes/runtimes.spec.ts runs it under Deno and Bun, whose
// node:net, node:http and node:zlib then carry serve(), connect() and zlibEngine().
import { connect } from '../../lib/node/client';
import { serve, type WebSocketServerHandle } from '../../lib/node/server';
import { expectEchoAndWire } from './echo-check';
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

describe.each([false, true])('the Node adapter over TCP, permessage-deflate %p', (deflate) => {
  it('serve() echoes text and binary messages to connect() unchanged, and closes cleanly with 1000', async () => {
    const server = await echoServer(deflate);
    const tap = await tapTo(server.port);
    const client = await connect(`ws://127.0.0.1:${tap.port}/`, { perMessageDeflate: deflate });
    expect(client.extensions).toBe(deflate ? 'permessage-deflate' : '');

    await expectEchoAndWire(client, tap, deflate);

    const serverSide = [...server.connections][0]!;
    expect(await client.close(1000, 'done')).toMatchObject({ wasClean: true, code: 1000, reason: 'done' });
    expect(await serverSide.closed).toMatchObject({ wasClean: true, code: 1000, reason: 'done' });
  });
});
