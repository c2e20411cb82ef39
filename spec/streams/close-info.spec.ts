import { frameFrom } from '../helpers/wire';
import { connectionPair, rawServer } from '../helpers/connection-pair';
import { FakeClock, settle } from '../helpers/fake-clock';

// CloseInfo.endedBy: why a connection ended, beside the close code the wire gave (a heartbeat
// timeout, a reset and a transport ended without a close frame all read 1006 '').

describe('CloseInfo.endedBy', () => {
  it("'close-handshake' on both sides when either side starts the close handshake", async () => {
    const a = connectionPair();
    expect(await a.client.close(4000, 'bye')).toEqual({ wasClean: true, code: 4000, reason: 'bye', endedBy: 'close-handshake' });
    expect(await a.server.closed).toEqual({ wasClean: true, code: 4000, reason: 'bye', endedBy: 'close-handshake' });
    const b = connectionPair();
    expect(await b.server.close(4001)).toEqual({ wasClean: true, code: 4001, reason: '', endedBy: 'close-handshake' });
    expect(await b.client.closed).toEqual({ wasClean: true, code: 4001, reason: '', endedBy: 'close-handshake' });
  });

  it("'protocol-error' when we fail the connection: the code says which rule", async () => {
    const { server, peer } = rawServer();
    // An unmasked frame from a client: RFC 6455 §5.1, 1002.
    peer.write([new Uint8Array([0x81, 0x02, 0x68, 0x69])]);
    expect(await server.closed).toMatchObject({ wasClean: false, code: 1002, endedBy: 'protocol-error' });
  });

  it("'protocol-error' for invalid UTF-8 reads 1007", async () => {
    const { server, peer } = rawServer();
    peer.write([frameFrom('client', 1, new Uint8Array([0xc3, 0x28]))]);
    expect(await server.closed).toMatchObject({ wasClean: false, code: 1007, endedBy: 'protocol-error' });
  });

  it("'heartbeat-timeout' when nothing comes within autoPingTimeout of a ping, with the heartbeat's error", async () => {
    const clock = new FakeClock();
    const { server } = rawServer({ autoPingInterval: 100, autoPingTimeout: 50, clock });
    await clock.tick(100);
    await clock.tick(50);
    const info = await server.closed;
    expect(info).toMatchObject({ wasClean: false, code: 1006, reason: '', endedBy: 'heartbeat-timeout' });
    expect(info.error).toBeInstanceOf(Error);
  });

  it("'close-timeout' when our close frame is never answered within closeTimeout", async () => {
    const clock = new FakeClock();
    const { server } = rawServer({ closeTimeout: 1000, clock });
    const closing = server.close(1000);
    await settle();
    await clock.tick(1000);
    expect(await closing).toEqual({ wasClean: false, code: 1006, reason: '', endedBy: 'close-timeout' });
  });

  it("'transport-error' when the transport fails (a reset), with its error", async () => {
    const { server, peer } = rawServer();
    await settle();
    peer.destroy();
    const info = await server.closed;
    expect(info).toMatchObject({ wasClean: false, code: 1006, reason: '', endedBy: 'transport-error' });
    expect(info.error?.message).toBe('Connection reset by peer');
  });

  it("'transport-ended' when the transport ends cleanly without a close frame", async () => {
    const { server, peer } = rawServer();
    await settle();
    peer.end();
    expect(await server.closed).toEqual({ wasClean: false, code: 1006, reason: '', endedBy: 'transport-ended' });
  });

  it("'abandoned' when our close frame cannot be sent inside an unfinished frame", async () => {
    const p = connectionPair({ server: { maxFrameSize: Infinity, maxMessageSize: Infinity } });
    const frame = p.client.beginMessage('binary').beginFrame(100).getWriter();
    await frame.write(new Uint8Array(10));
    const info = await p.client.close(1000);
    expect(info).toMatchObject({ wasClean: false, code: 1006, endedBy: 'abandoned' });
    expect(info.error?.message).toMatch(/unfinished/);
    expect(await p.server.closed).toMatchObject({ endedBy: 'transport-ended' });
  });
});
