import { WebSocketError } from '../../lib/streams/errors';
import { MAX_PENDING_PINGS } from '../../lib/streams/pending-pings';
import { connectionPair, rawServer } from '../helpers/connection-pair';
import { FakeClock, settle } from '../helpers/fake-clock';
import { framesOf, frameFrom } from '../helpers/wire';

// `conn.ping()` resolves with the round-trip time once the matching pong arrives (as
// python-websockets' ping() does), on the connection's injectable clock: every RTT here is
// exact, set by moving the fake clock between the ping and its pong.

const PING = 0x9;
const PONG = 0xa;
const enc = new TextEncoder();

/** The payloads of the pings a server wrote (server frames are unmasked). */
const pingsWritten = (written: readonly Uint8Array[]): Uint8Array[] =>
  framesOf(written).filter((f) => f.opcode === PING).map((f) => f.payload);

/** Closes a raw server whose peer never answers: the close timeout (5 s, on the fake clock) drops it. */
async function dropRaw(server: { close(code: number): Promise<unknown> }, clock: FakeClock): Promise<void> {
  server.close(1000).catch(() => undefined);
  await clock.tick(5_000);
}

/** Settles `p` into what it became, for assertions on ignored-looking promises. */
const outcome = <T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> => p.then((value) => ({ value }), (error: unknown) => ({ error }));

describe('Connection.ping() awaits its pong', () => {
  it('resolves with the round-trip time by the connection clock, exactly', async () => {
    const clock = new FakeClock(1_000);
    const { client } = connectionPair({ client: { clock } });
    // The pong crosses the in-memory transport in microtasks; the clock moves before that.
    const rtt = client.ping();
    clock.advance(37);
    expect(await rtt).toBe(37);
  });

  it('sends a 4-byte payload of its own when given none, unique among the pings in flight', async () => {
    const clock = new FakeClock();
    const { server, serverTransport } = rawServer({ clock });
    const pings = [server.ping(), server.ping(), server.ping()];
    const payloads = pingsWritten(serverTransport.written);
    expect(payloads.map((p) => p.length)).toEqual([4, 4, 4]);
    expect(new Set(payloads.map((p) => p.join())).size).toBe(3);
    await dropRaw(server, clock);
    await Promise.allSettled(pings);
  });

  it('sends the payload it is given, and a pong with that payload resolves it', async () => {
    const clock = new FakeClock();
    const { server, peer, serverTransport } = rawServer({ clock });
    const rtt = server.ping('hello');
    expect(pingsWritten(serverTransport.written).map((p) => new TextDecoder().decode(p))).toEqual(['hello']);
    clock.advance(5);
    peer.write([frameFrom('client', PONG, 'hello')]);
    expect(await rtt).toBe(5);
  });

  it('a pong acknowledges every ping sent before its own, each with its own RTT (RFC 6455 §5.5.3: a peer may answer only the latest)', async () => {
    const clock = new FakeClock();
    const { server, peer } = rawServer({ clock });
    const first = server.ping('a');
    clock.advance(10);
    const second = server.ping('b');
    clock.advance(10);
    const third = server.ping('c');
    clock.advance(10);
    const fourth = server.ping('d');
    clock.advance(10);
    // The peer answers only the third: the first three are acknowledged, the fourth still waits.
    peer.write([frameFrom('client', PONG, 'c')]);
    expect(await first).toBe(40);
    expect(await second).toBe(30);
    expect(await third).toBe(20);
    let fourthSettled = false;
    void fourth.then(() => (fourthSettled = true), () => (fourthSettled = true));
    await settle();
    expect(fourthSettled).toBe(false);
    clock.advance(1);
    peer.write([frameFrom('client', PONG, 'd')]);
    expect(await fourth).toBe(11);
  });

  it('ignores an unsolicited pong (no ping of that payload waits); onPong still sees every pong', async () => {
    const clock = new FakeClock();
    const { server, peer } = rawServer({ clock });
    const seen: string[] = [];
    server.onPong = (d) => seen.push(new TextDecoder().decode(d));
    const rtt = server.ping('mine');
    let settled = false;
    void rtt.then(() => (settled = true), () => (settled = true));
    clock.advance(3);
    peer.write([frameFrom('client', PONG, 'heartbeat'), frameFrom('client', PONG, '')]);
    await settle();
    expect(settled).toBe(false);
    clock.advance(4);
    peer.write([frameFrom('client', PONG, 'mine')]);
    expect(await rtt).toBe(7);
    expect(seen).toEqual(['heartbeat', '', 'mine']);
  });

  it('rejects a ping whose payload is already in flight, without sending it', async () => {
    const clock = new FakeClock();
    const { server, serverTransport } = rawServer({ clock });
    const first = server.ping('same');
    const second = await outcome(server.ping(enc.encode('same')));
    expect(second.error).toBeInstanceOf(WebSocketError);
    expect(second.error).toMatchObject({ kind: 'PING_IN_FLIGHT', closeCode: null });
    expect(pingsWritten(serverTransport.written)).toHaveLength(1);
    await dropRaw(server, clock);
    expect((await outcome(first)).error).toMatchObject({ kind: 'CONNECTION_LOST' });
  });

  it('rejects the pings still waiting with a WebSocketError when the connection closes before their pongs', async () => {
    const { client, server } = connectionPair({ server: { autoPong: false } });
    const pending = outcome(client.ping('never answered'));
    await server.close(4000, 'bye');
    const { error } = await pending;
    expect(error).toBeInstanceOf(WebSocketError);
    expect(error).toMatchObject({ kind: 'CLOSED', closeCode: 4000, reason: 'bye' });
  });

  it('rejects with the loss (1006) when the transport is lost before the pong', async () => {
    const { client, server, serverTransport } = connectionPair({ server: { autoPong: false } });
    const pending = outcome(client.ping());
    serverTransport.destroy(new Error('reset'));
    const { error } = await pending;
    expect(error).toMatchObject({ kind: 'CONNECTION_LOST', closeCode: 1006 });
    await server.closed;
  });

  it(`keeps at most ${MAX_PENDING_PINGS} pings waiting: the oldest is given up, every ping still goes out`, async () => {
    const clock = new FakeClock();
    const { server, serverTransport } = rawServer({ clock });
    const pings = Array.from({ length: MAX_PENDING_PINGS + 1 }, () => outcome(server.ping()));
    expect(pingsWritten(serverTransport.written)).toHaveLength(MAX_PENDING_PINGS + 1);
    expect((await pings[0]!).error).toMatchObject({ kind: 'PING_UNANSWERED' });
    await dropRaw(server, clock);
    await Promise.all(pings);
  });

  it('throws at once for a payload over 125 bytes', () => {
    const { server } = rawServer({ clock: new FakeClock() });
    expect(() => server.ping(new Uint8Array(126))).toThrow(RangeError);
  });

  it('autoPingInterval still sends empty pings, which ping() does not wait on', async () => {
    const clock = new FakeClock();
    const { server, serverTransport } = rawServer({ clock, autoPingInterval: 100 });
    await clock.tick(100);
    expect(pingsWritten(serverTransport.written).map((p) => p.length)).toEqual([0]);
    await dropRaw(server, clock);
  });
});
