import { Connection } from '../../lib/streams/connection';
import { MemoryTransport } from '../helpers/memory-transport';
import { concat, handshakeInfo, rawServer } from '../helpers/connection-pair';
import { FakeClock, settle } from '../helpers/fake-clock';

// `closeTimeout` on a clock the tests move by hand: the peer is dropped after exactly that
// long, whatever the machine's load.

const CLOSE_TIMEOUT = 1000;

describe('Connection close timeout (on a fake clock)', () => {
  it('drops a peer that never answers our close frame after exactly closeTimeout', async () => {
    const clock = new FakeClock();
    const { server, peer, serverTransport } = rawServer({ closeTimeout: CLOSE_TIMEOUT, clock });
    let done = false;
    const closing = server.close(1000).then((info) => ((done = true), info));
    await settle();
    expect(Array.from(concat(serverTransport.written))).toEqual([0x88, 0x02, 0x03, 0xe8]);
    await clock.tick(CLOSE_TIMEOUT - 1);
    expect(serverTransport.closed).toBe(false);
    expect(done).toBe(false);
    await clock.tick(1);
    expect(serverTransport.closed).toBe(true);
    expect(peer.closed).toBe(true);
    expect(await closing).toEqual({ wasClean: false, code: 1006, reason: '', endedBy: 'close-timeout' });
    expect(clock.pending).toBe(0);
  });

  it('a client drops a server that answers the close but never ends TCP, after exactly closeTimeout', async () => {
    const clock = new FakeClock();
    const [transport, peer] = MemoryTransport.pair();
    const client = new Connection(transport, { role: 'client', handshake: handshakeInfo(), options: { closeTimeout: CLOSE_TIMEOUT, clock } });
    peer.attach({ onData: () => {}, onEnd: () => {}, onError: () => {}, onDrain: () => {}, onClose: () => {} });
    const closing = client.close(1000);
    await settle();
    peer.write([new Uint8Array([0x88, 0x02, 0x03, 0xe8])]); // the server's close frame, and then nothing
    await clock.tick(CLOSE_TIMEOUT - 1);
    expect(transport.closed).toBe(false);
    await clock.tick(1);
    expect(transport.closed).toBe(true);
    // Both close frames were exchanged: the close was clean, only TCP's end was not awaited.
    expect(await closing).toEqual({ wasClean: true, code: 1000, reason: '', endedBy: 'close-handshake' });
    expect(clock.pending).toBe(0);
  });

  it('sets its timer on the clock only once closing starts, and clears it when the peer answers', async () => {
    const clock = new FakeClock();
    const { server, peer } = rawServer({ closeTimeout: CLOSE_TIMEOUT, clock });
    await settle();
    expect(clock.scheduled).toBe(0);
    const closing = server.close(1000);
    await settle();
    expect(clock.pending).toBe(1);
    peer.write([new Uint8Array([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8])]); // the client's masked close frame
    peer.end();
    expect(await closing).toEqual({ wasClean: true, code: 1000, reason: '', endedBy: 'close-handshake' });
    expect(clock.pending).toBe(0);
  });
});
