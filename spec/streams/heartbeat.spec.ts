import { connectionPair, rawServer } from '../helpers/connection-pair';
import { concat } from '../helpers/connection-pair';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Connection heartbeat', () => {
  it('Connection aborts with 1006 when the peer stops answering auto pings', async () => {
    const { server, peer } = rawServer({ autoPingInterval: 30, autoPingTimeout: 30 });
    const info = await server.closed;
    expect(info).toEqual({ wasClean: false, code: 1006, reason: '' });
    // A ping went out first (server frames are unmasked: 0x89 0x00).
    const sent = concat(peer.peer.written);
    expect(Array.from(sent.subarray(0, 2))).toEqual([0x89, 0x00]);
  });

  it('Connection stays open while the peer answers auto pings', async () => {
    const { client, server, serverTransport } = connectionPair({ server: { autoPingInterval: 20, autoPingTimeout: 200 } });
    let pongs = 0;
    server.onPong = () => pongs++;
    void client.nextMessage();
    await sleep(250);
    expect(server.readyState).toBe(1);
    expect(pongs).toBeGreaterThanOrEqual(2);
    expect(serverTransport.closed).toBe(false);
    await client.close();
  });

  it('Connection does not count its own paused reading against the peer', async () => {
    const { client, server, serverTransport } = connectionPair({
      server: { autoPingInterval: 20, autoPingTimeout: 20, receiveHighWaterMark: 16 * 1024 },
      hwm: 16 * 1024,
    });
    const sending = client.send(new Uint8Array(1024 * 1024), { fragmentSize: 8 * 1024 });
    const msg = (await server.nextMessage())!;
    await sleep(300); // many ping intervals while our consumer holds the transport paused
    expect(serverTransport.paused).toBe(true);
    expect(server.readyState).toBe(1);
    expect((await msg.bytes()).length).toBe(1024 * 1024);
    await sending;
    await client.close();
  });

  it('Connection sends no ping while the peer keeps sending data', async () => {
    const { client, server, serverTransport } = connectionPair({ server: { autoPingInterval: 40, autoPingTimeout: 1000 } });
    let pings = 0;
    client.onPing = () => pings++;
    const reading = (async () => {
      for (let m = await server.nextMessage(); m; m = await server.nextMessage()) await m.bytes();
    })();
    try {
      for (let i = 0; i < 30; i++) {
        await client.send('tick');
        await sleep(10);
      }
      // 300 ms are several intervals, but data came in every 10 ms: the peer was never idle.
      expect(pings).toBe(0);
      expect(serverTransport.closed).toBe(false);
    } finally {
      await client.close();
      await reading;
    }
  });

  it('Connection leaves no timer behind once closed', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const pairs = Array.from({ length: 5 }, () =>
      connectionPair({ server: { autoPingInterval: 10_000, closeTimeout: 10_000 }, client: { autoPingInterval: 10_000 } }));
    expect(timers()).toBeGreaterThanOrEqual(before + 10); // each connection armed its heartbeat
    for (const { client, server } of pairs) {
      void server.nextMessage();
      await client.close(1000);
      await server.closed;
    }
    expect(timers()).toBe(before);
  });
});
