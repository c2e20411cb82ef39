import { Heartbeat, type HeartbeatHost } from '../../lib/streams/heartbeat';
import type { MemoryTransport } from '../helpers/memory-transport';
import { concat, connectionPair, rawServer } from '../helpers/connection-pair';
import { FakeClock, settle } from '../helpers/fake-clock';

// The heartbeat (`autoPingInterval`, `autoPingTimeout`) on a clock the tests move by hand:
// no assertion depends on how long anything takes in real time. The schedule it follows: a
// check every interval; a check that finds the whole interval before it silent sends a ping;
// the check `autoPingTimeout` later drops the peer unless something arrived meanwhile.

const INTERVAL = 100;
const TIMEOUT = 50;

/** Opcodes of the frames a server wrote (server frames are unmasked). */
function opcodesWritten(t: MemoryTransport): number[] {
  const bytes = concat(t.written);
  const out: number[] = [];
  for (let i = 0; i < bytes.length;) {
    out.push(bytes[i]! & 0x0f);
    let len = bytes[i + 1]! & 0x7f;
    i += 2;
    if (len === 126) { len = (bytes[i]! << 8) | bytes[i + 1]!; i += 2; }
    else if (len === 127) { len = new DataView(bytes.buffer, bytes.byteOffset + i).getUint32(4); i += 8; }
    i += len;
  }
  return out;
}
const pingsWritten = (t: MemoryTransport): number => opcodesWritten(t).filter((op) => op === 0x9).length;

/** Reads every message the connection receives, until it ends. */
async function drain(conn: { nextMessage(): Promise<{ bytes(): Promise<Uint8Array> } | undefined> }): Promise<void> {
  for (let m = await conn.nextMessage(); m; m = await conn.nextMessage()) await m.bytes();
}

describe('Connection heartbeat (on a fake clock)', () => {
  it('sends the first ping after exactly autoPingInterval of silence, and not before', async () => {
    const clock = new FakeClock();
    const { server, serverTransport } = rawServer({ autoPingInterval: INTERVAL, autoPingTimeout: TIMEOUT, clock });
    await clock.tick(INTERVAL - 1);
    expect(pingsWritten(serverTransport)).toBe(0);
    await clock.tick(1);
    // A ping with no payload (server frames are unmasked: 0x89 0x00).
    expect(Array.from(concat(serverTransport.written))).toEqual([0x89, 0x00]);
    expect(server.readyState).toBe(1);
  });

  it('inbound data postpones the ping: a ping needs a whole interval without traffic', async () => {
    const clock = new FakeClock();
    const { client, server } = connectionPair({ server: { autoPingInterval: INTERVAL, autoPingTimeout: 1000, clock } });
    const pingTimes: number[] = [];
    client.onPing = () => pingTimes.push(clock.now());
    const reading = drain(server);
    await clock.tick(60);
    await client.send('data at 60');
    // The check at 100 heard the data: no ping. The check at 200 finds 100–200 silent.
    await clock.tick(INTERVAL + 39);
    expect(pingTimes).toEqual([]);
    await clock.tick(1);
    expect(pingTimes).toEqual([200]);
    await client.close(1000);
    await reading;
  });

  it('sends no ping while the peer keeps sending, and pings once the peer falls silent', async () => {
    const clock = new FakeClock();
    const { client, server, serverTransport } = connectionPair({ server: { autoPingInterval: INTERVAL, autoPingTimeout: 1000, clock } });
    const pingTimes: number[] = [];
    client.onPing = () => pingTimes.push(clock.now());
    const reading = drain(server);
    let lastSent = 0;
    for (let i = 0; i < 20; i++) {
      lastSent = clock.now();
      await client.send('tick');
      await clock.tick(60);
    }
    // Twelve intervals went by, none without data.
    expect(lastSent).toBe(1140);
    expect(pingTimes).toEqual([]);
    await clock.tick(1000);
    // Checks fall at 1200 (heard the data sent at 1140) and 1300 (silent since 1200).
    expect(pingTimes[0]).toBe(1300);
    expect(pingTimes[0]! - lastSent).toBeGreaterThanOrEqual(INTERVAL);
    expect(pingTimes[0]! - lastSent).toBeLessThan(2 * INTERVAL);
    expect(serverTransport.closed).toBe(false);
    await client.close(1000);
    await reading;
  });

  it('drops a peer that sends nothing within autoPingTimeout of a ping: transport destroyed, 1006', async () => {
    const clock = new FakeClock();
    const { server, serverTransport } = rawServer({ autoPingInterval: INTERVAL, autoPingTimeout: TIMEOUT, clock });
    await clock.tick(INTERVAL);
    expect(pingsWritten(serverTransport)).toBe(1);
    await clock.tick(TIMEOUT - 1);
    expect(serverTransport.closed).toBe(false);
    await clock.tick(1);
    expect(serverTransport.closed).toBe(true);
    expect(serverTransport.destroyedWith).toBeInstanceOf(Error);
    expect(serverTransport.destroyedWith!.message).toBe(`No traffic from the peer for ${TIMEOUT} ms after a ping`);
    expect(await server.closed).toEqual({ wasClean: false, code: 1006, reason: '', endedBy: 'heartbeat-timeout', error: serverTransport.destroyedWith });
    expect(clock.pending).toBe(0);
  });

  it('keeps the connection open while the peer answers the pings', async () => {
    const clock = new FakeClock();
    const { client, server, serverTransport } = connectionPair({ server: { autoPingInterval: INTERVAL, autoPingTimeout: TIMEOUT, clock } });
    const pongTimes: number[] = [];
    server.onPong = () => pongTimes.push(clock.now());
    await clock.tick(1000);
    // Ping, answered before the check TIMEOUT later, then a silent interval, then a ping again.
    expect(pongTimes).toEqual([100, 250, 400, 550, 700, 850, 1000]);
    expect(pingsWritten(serverTransport)).toBe(7);
    expect(server.readyState).toBe(1);
    expect(serverTransport.closed).toBe(false);
    await client.close(1000);
    expect(clock.pending).toBe(0);
  });

  it('does not count our own paused reading against the peer', async () => {
    const clock = new FakeClock();
    const { client, server, serverTransport } = connectionPair({
      server: { autoPingInterval: INTERVAL, autoPingTimeout: TIMEOUT, receiveHighWaterMark: 16 * 1024, clock },
      hwm: 16 * 1024,
    });
    const sending = client.send(new Uint8Array(1024 * 1024), { fragmentSize: 8 * 1024 });
    const msg = (await server.nextMessage())!;
    await settle();
    expect(serverTransport.paused).toBe(true);
    // Many intervals while our consumer holds the transport paused and the peer's bytes wait.
    await clock.tick(20 * INTERVAL);
    expect(serverTransport.paused).toBe(true);
    expect(pingsWritten(serverTransport)).toBe(0);
    expect(serverTransport.closed).toBe(false);
    expect(server.readyState).toBe(1);
    expect((await msg.bytes()).length).toBe(1024 * 1024);
    await sending;
    await client.close(1000);
  });

  it('stops once the connection is closed: no timer left, nothing sent any more', async () => {
    const clock = new FakeClock();
    const options = { autoPingInterval: INTERVAL, autoPingTimeout: TIMEOUT, closeTimeout: 10_000, clock };
    const { client, server, clientTransport, serverTransport } = connectionPair({ client: options, server: options });
    await clock.tick(INTERVAL / 2);
    expect(clock.pending).toBe(2); // one heartbeat timer each
    void server.nextMessage();
    expect(await client.close(1000)).toEqual({ wasClean: true, code: 1000, reason: '', endedBy: 'close-handshake' });
    expect((await server.closed).wasClean).toBe(true);
    expect(clock.pending).toBe(0);
    const scheduled = clock.scheduled;
    const written = [clientTransport.written.length, serverTransport.written.length];
    await clock.tick(100 * INTERVAL);
    expect(clock.scheduled).toBe(scheduled);
    expect([clientTransport.written.length, serverTransport.written.length]).toEqual(written);
  });

  it('makes no heartbeat and sets no timer when autoPingInterval is 0', async () => {
    const clock = new FakeClock();
    const { client, server } = connectionPair({ client: { clock }, server: { clock, autoPingInterval: 0 } });
    let pings = 0;
    client.onPing = server.onPing = () => pings++;
    await client.send('hello');
    expect(await (await server.nextMessage())!.text()).toBe('hello');
    await clock.tick(1_000_000);
    // A heartbeat arms its timer when it is made: none was ever set, so none was made.
    expect(clock.scheduled).toBe(0);
    expect(pings).toBe(0);
    await client.close(1000);
    expect(clock.pending).toBe(0);
  });
});

/** A host that records what the heartbeat asks of it. */
class FakeHost implements HeartbeatHost {
  pings: number[] = [];
  aborted: Error | undefined;
  readingPaused = false;
  closing = false;
  throwOnPing = false;
  constructor(readonly clock: FakeClock) {}
  sendPing(): void {
    this.pings.push(this.clock.now());
    if (this.throwOnPing) throw new Error('closing');
  }
  abort(err: Error): void {
    this.aborted = err;
  }
}

describe('Heartbeat', () => {
  it('keeps one timer armed, checking every interval, and pings after a silent interval', () => {
    const clock = new FakeClock();
    const host = new FakeHost(clock);
    const hb = new Heartbeat(host, clock, INTERVAL, TIMEOUT);
    expect(clock.dueTimes).toEqual([100]);
    clock.advance(50);
    hb.inbound();
    clock.advance(50);
    expect(host.pings).toEqual([]);
    expect(clock.dueTimes).toEqual([200]);
    clock.advance(100);
    expect(host.pings).toEqual([200]);
    expect(clock.dueTimes).toEqual([250]);
    hb.inbound(); // the answer
    clock.advance(50);
    expect(host.aborted).toBeUndefined();
    expect(clock.dueTimes).toEqual([350]);
    hb.stop();
  });

  it('aborts when nothing arrives within the timeout of a ping, and leaves no timer', () => {
    const clock = new FakeClock();
    const host = new FakeHost(clock);
    new Heartbeat(host, clock, INTERVAL, TIMEOUT);
    clock.advance(INTERVAL + TIMEOUT - 1);
    expect(host.pings).toEqual([100]);
    expect(host.aborted).toBeUndefined();
    clock.advance(1);
    expect(host.aborted?.message).toBe(`No traffic from the peer for ${TIMEOUT} ms after a ping`);
    expect(clock.pending).toBe(0);
  });

  it('neither pings nor aborts while reading is paused, and judges again once it is not', () => {
    const clock = new FakeClock();
    const host = new FakeHost(clock);
    host.readingPaused = true;
    const hb = new Heartbeat(host, clock, INTERVAL, TIMEOUT);
    clock.advance(10 * INTERVAL);
    expect(host.pings).toEqual([]);
    host.readingPaused = false;
    clock.advance(INTERVAL);
    expect(host.pings).toEqual([1100]);
    // Paused while awaiting the answer: the answer may be among the unread bytes.
    host.readingPaused = true;
    clock.advance(10 * TIMEOUT);
    expect(host.aborted).toBeUndefined();
    hb.inbound();
    host.readingPaused = false;
    clock.advance(TIMEOUT);
    expect(host.aborted).toBeUndefined();
    hb.stop();
    expect(clock.pending).toBe(0);
  });

  it('sends no ping once closing, and stops checking', () => {
    const clock = new FakeClock();
    const host = new FakeHost(clock);
    host.closing = true;
    new Heartbeat(host, clock, INTERVAL, TIMEOUT);
    clock.advance(10 * INTERVAL);
    expect(host.pings).toEqual([]);
    expect(clock.pending).toBe(0);
    expect(host.aborted).toBeUndefined();
  });

  it('still judges the answer when sending the ping throws', () => {
    const clock = new FakeClock();
    const host = new FakeHost(clock);
    host.throwOnPing = true;
    new Heartbeat(host, clock, INTERVAL, TIMEOUT);
    clock.advance(INTERVAL + TIMEOUT);
    expect(host.pings).toEqual([100]);
    expect(host.aborted).toBeInstanceOf(Error);
  });

  it('does nothing after stop(), even when its timer was already due', () => {
    const clock = new FakeClock();
    const host = new FakeHost(clock);
    const hb = new Heartbeat(host, clock, INTERVAL, TIMEOUT);
    hb.stop();
    hb.stop();
    hb.inbound();
    expect(clock.pending).toBe(0);
    clock.advance(10 * INTERVAL);
    expect(host.pings).toEqual([]);
    expect(host.aborted).toBeUndefined();
  });
});
