import { connect } from '../../lib/node/client';
import { listenWS, WebSocketServerFactory } from '../../lib/node/autobahn';
import { WebSocketServerProtocol } from '../../lib/tiers/server-protocol';
import { runPythonClient, startPythonServer } from '../helpers/python';
import { recordingDeflateEcho } from './node-helpers';

// Autobahn|Python (Debian's python3-autobahn, installed by .ci/run) — the library whose
// WebSocketProtocol our API re-imagines — as an independent peer, with permessage-deflate on.
const EXPECTED = { extensions: ['permessage-deflate'], text: true, binary: true, empty: true, big_text: true, big_binary: true, fragmented: true, close: [true, 4010] };

const runClient = (url: string): Promise<unknown> => runPythonClient('autobahn-peer.py', ['client', url]);

describe('interop with Autobahn|Python, permessage-deflate on (real TCP)', () => {
  it('an Autobahn client exchanges compressed messages with our stream-tier echo server', async () => {
    const { server, compressed, closes } = await recordingDeflateEcho();
    try {
      expect(await runClient(server.url)).toEqual(EXPECTED);
      // Autobahn compresses every message, the frame-by-frame one too.
      expect(compressed).toEqual([true, true, true, true, true, true]);
      expect(await closes[0]).toEqual({ wasClean: true, code: 4010, reason: 'autobahn done', endedBy: 'close-handshake' });
    } finally {
      await server.close();
    }
  }, 60_000);

  it('an Autobahn client talks to our Autobahn-tier server (onMessage → sendMessage)', async () => {
    class Echo extends WebSocketServerProtocol {
      override onMessage(payload: Uint8Array, isBinary: boolean) {
        return this.sendMessage(payload, isBinary);
      }
    }
    const factory = new WebSocketServerFactory('ws://127.0.0.1:0', { perMessageDeflate: true });
    factory.protocol = Echo;
    const server = await listenWS(factory);
    try {
      expect(await runClient(server.url)).toEqual(EXPECTED);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('our client talks to an Autobahn server with compression, and sees the close it starts', async () => {
    const { child, port } = await startPythonServer('autobahn-peer.py');
    try {
      const conn = await connect(`ws://127.0.0.1:${port}/`, { perMessageDeflate: true });
      expect(conn.extensions).toMatch(/^permessage-deflate/);
      const reader = conn.readable.getReader();
      const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) % 251);
      const sent: Array<string | Uint8Array> = ['ünïcode', big, '', 'x'.repeat(100_000)];
      for (const m of sent) {
        await conn.send(m);
        const { value: msg } = await reader.read();
        expect(msg!.compressed).toBe(true);
        if (typeof m === 'string') expect(await msg!.text()).toBe(m);
        else expect(Buffer.from(await msg!.bytes()).equals(Buffer.from(m))).toBe(true);
      }
      // A message streamed frame by frame through the compressor.
      const w = conn.beginMessage('text');
      await w.sendFrame('frag-');
      await w.sendFrame('ment');
      await w.sendFrame('ed', { fin: true });
      expect(await (await reader.read()).value!.text()).toBe('frag-mented');
      await conn.send('close please');
      expect((await reader.read()).done).toBe(true);
      expect(await conn.closed).toEqual({ wasClean: true, code: 4011, reason: 'bye from autobahn', endedBy: 'close-handshake' });
    } finally {
      child.kill();
    }
  }, 60_000);
});
