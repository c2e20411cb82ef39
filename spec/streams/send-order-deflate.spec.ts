// Messages leave in the order send() was called, whether or not each one is compressed: a
// compressed message takes its turn when send() is called, not a microtask later.
import { PerMessageDeflate } from '../../lib/extensions/permessage-deflate/permessage-deflate';
import { zlibEngine } from '../../lib/node/zlib-engine';
import { Connection } from '../../lib/streams/connection';
import { handshakeInfo } from '../helpers/connection-pair';
import { MemoryTransport } from '../helpers/memory-transport';
import { framesOf } from '../helpers/wire';

function deflateServer(): { conn: Connection; transport: MemoryTransport } {
  const [peer, transport] = MemoryTransport.pair();
  const ext = new PerMessageDeflate(zlibEngine(), { threshold: 0 })
    .accept([{ name: 'permessage-deflate', params: [['server_no_context_takeover', true]] }])!.extension;
  const conn = new Connection(transport, { role: 'server', handshake: handshakeInfo(), activeExtensions: [ext] });
  peer.attach({ onData: () => {}, onEnd: () => {}, onError: () => {}, onDrain: () => {}, onClose: () => {} });
  return { conn, transport };
}

describe('send order on a permessage-deflate connection', () => {
  it('an uncompressed message sent after a compressed one goes after it', async () => {
    const { conn, transport } = deflateServer();
    const first = conn.send('compressed first');
    const second = conn.send('plain second', { compress: false });
    await Promise.all([first, second]);
    expect(framesOf(transport.written).map((f) => f.rsv)).toEqual([0b100, 0]);
    expect(framesOf(transport.written)[1]!.text).toBe('plain second');
  });
});
