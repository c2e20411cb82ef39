import { connect } from '../../lib/node/client';
import { serve } from '../../lib/node/server';
import type { Connection } from '../../lib/streams/connection';
import { runPythonClient, startPythonServer } from '../helpers/python';
import { recordingDeflateEcho } from './node-helpers';

// python3-websockets from Debian (installed by .ci/run): an independent RFC 6455 peer.

describe('interop with python-websockets (real TCP)', () => {
  it('serve echoes text, binary, empty and fragmented messages to a python client and sees its close', async () => {
    const closes: Array<Promise<unknown>> = [];
    const server = await serve({ host: '127.0.0.1', port: 0 }, (conn: Connection) => {
      closes.push(conn.closed);
      return conn.readable.pipeTo(conn.writable);
    });
    try {
      const out = await runPythonClient('python-peer.py', ['client', `ws://127.0.0.1:${server.address.port}/`]);
      expect(out).toEqual({ text: true, binary: true, empty: true, fragmented: true, pong: true, close_code: 4001 });
      expect(await closes[0]).toEqual({ wasClean: true, code: 4001, reason: 'python done', endedBy: 'close-handshake' });
    } finally {
      await server.close();
    }
  }, 60_000);

  it('serve with perMessageDeflate exchanges compressed messages with a python client that offers deflate', async () => {
    const { server, compressed, closes } = await recordingDeflateEcho();
    try {
      const out = await runPythonClient('python-peer.py', ['client-deflate', `ws://127.0.0.1:${server.address.port}/`]);
      expect(out).toEqual({
        extensions: ['permessage-deflate'], text: true, binary: true, empty: true, big_text: true, big_binary: true, fragmented: true, close_code: 4003,
      });
      // python-websockets compresses every message once deflate is agreed.
      expect(compressed).toEqual([true, true, true, true, true, true]);
      expect(await closes[0]).toEqual({ wasClean: true, code: 4003, reason: 'python deflate done', endedBy: 'close-handshake' });
    } finally {
      await server.close();
    }
  }, 60_000);

  it('connect talks to a python server: echoes in order and reports the close python starts', async () => {
    const { child, port } = await startPythonServer('python-peer.py');
    try {
      const conn = await connect(`ws://127.0.0.1:${port}/`);
      const big = new Uint8Array(200_000).map((_, i) => i % 251);
      await conn.send('ünïcode');
      await conn.send(big, { fragmentSize: 16_384 });
      expect(await (await conn.nextMessage())!.text()).toBe('ünïcode');
      const echoed = await (await conn.nextMessage())!.bytes();
      expect(echoed.length).toBe(big.length);
      expect(echoed.every((x, i) => x === i % 251)).toBe(true);
      await conn.send('close please');
      expect(await conn.nextMessage()).toBeUndefined();
      expect(await conn.closed).toEqual({ wasClean: true, code: 4002, reason: 'bye from python', endedBy: 'close-handshake' });
    } finally {
      child.kill();
    }
  }, 60_000);
});
