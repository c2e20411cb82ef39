// Topics in one process, with real peers over loopback: a publish reaches each subscriber of
// its topic exactly once and nobody else, text and binary unchanged; subscribing is
// idempotent; a connection leaves its topics when it closes; a subscriber that stops reading
// is skipped with a bounded backlog while the others get everything.
import { Topics } from '../../lib/pubsub/topics';
import type { Connection } from '../../lib/streams/connection';
import { ReadyState } from '../../lib/protocol/state';
import type { RecordingClient } from '../helpers/recording-ws-client';
import { startTopicServer, type TopicServer } from '../helpers/topic-server';

/** A Topics, a server whose connections subscribe to it by path, and one recording client per path. */
async function topicsWithClients(paths: string[]): Promise<{ topics: Topics; ts: TopicServer; clients: RecordingClient[] }> {
  const topics = new Topics();
  const ts = await startTopicServer((conn, topic) => topics.subscribe(conn, topic));
  return { topics, ts, clients: await ts.clients(paths) };
}

/** Two subscribers of 'feed', the second of which has stopped reading. */
async function feedWithStalledSubscriber(): Promise<{ topics: Topics; ts: TopicServer; healthy: RecordingClient; stalled: RecordingClient; stalledConn: Connection }> {
  const { topics, ts, clients: [healthy, stalled] } = await topicsWithClients(['/feed', '/feed']);
  stalled.socket.pause();
  return { topics, ts, healthy: healthy!, stalled: stalled!, stalledConn: ts.conns[1]! };
}

describe('Topics (one process, real peers)', () => {
  it('delivers each text and binary message to every subscriber of its topic exactly once, unchanged, and to nobody else', async () => {
    const { topics, ts, clients: [a1, a2, b] } = await topicsWithClients(['/a', '/a', '/b']);
    try {
      const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
      expect(topics.publish('a', 'héllo ✓')).toEqual({ sent: 2, skipped: 0, closed: 0 });
      expect(topics.publish('a', binary)).toEqual({ sent: 2, skipped: 0, closed: 0 });
      expect(topics.publish('a', 'end')).toEqual({ sent: 2, skipped: 0, closed: 0 });
      expect(topics.publish('b', 'only b')).toEqual({ sent: 1, skipped: 0, closed: 0 });
      expect(topics.publish('nobody', 'lost')).toEqual({ sent: 0, skipped: 0, closed: 0 });
      await Promise.all([a1!.received(3), a2!.received(3), b!.received(1)]);
      for (const a of [a1!, a2!]) {
        expect(a.messages.map((m) => m.binary)).toEqual([false, true, false]);
        expect(a.messages[0]!.data.toString('utf8')).toBe('héllo ✓');
        expect(new Uint8Array(a.messages[1]!.data)).toEqual(binary);
        expect(a.messages[2]!.data.toString('utf8')).toBe('end');
      }
      // b's only message came after the three of 'a' were sent on the same server: had any of them gone to b, it would be first.
      expect(b!.texts).toEqual(['only b']);
    } finally {
      await ts.close([a1!, a2!, b!]);
    }
  });

  it('subscribes idempotently, unsubscribes, and reports subscribers and topics', async () => {
    const { topics, ts, clients: [client] } = await topicsWithClients(['/']);
    try {
      const conn = ts.conns[0]!;
      expect(topics.subscribe(conn, 'x')).toBe(true);
      expect(topics.subscribe(conn, 'x')).toBe(false);
      expect(topics.subscribe(conn, 'y')).toBe(true);
      expect(topics.subscriberCount('x')).toBe(1);
      expect(topics.topicsOf(conn).sort()).toEqual(['x', 'y']);
      expect(topics.activeTopics().sort()).toEqual(['x', 'y']);
      expect(topics.publish('x', 'once').sent).toBe(1);
      expect(topics.unsubscribe(conn, 'x')).toBe(true);
      expect(topics.unsubscribe(conn, 'x')).toBe(false);
      expect(topics.publish('x', 'not for you').sent).toBe(0);
      expect(topics.publish('y', 'last').sent).toBe(1);
      await client!.received(2);
      expect(client!.texts).toEqual(['once', 'last']);
      expect(topics.subscriberCount('x')).toBe(0);
      expect(topics.activeTopics()).toEqual(['y']);
    } finally {
      await ts.close([client!]);
    }
  });

  it('lets a connection leave all its topics when it closes, and never adds a closed one', async () => {
    const { topics, ts, clients: [leaving, staying] } = await topicsWithClients(['/t', '/t']);
    try {
      const conn = ts.conns[0]!;
      topics.subscribe(conn, 'u');
      // Unsubscribing from everything and subscribing again must not leave a second close handler behind (checked below: it leaves once).
      topics.unsubscribe(conn, 'u');
      topics.subscribe(conn, 'u');
      expect(topics.subscriberCount('t')).toBe(2);
      leaving!.ws.close();
      await conn.closed;
      expect(topics.topicsOf(conn)).toEqual([]);
      expect(topics.subscriberCount('t')).toBe(1);
      expect(topics.subscriberCount('u')).toBe(0);
      expect(topics.activeTopics()).toEqual(['t']);
      expect(conn.readyState).toBe(ReadyState.Closed);
      expect(topics.subscribe(conn, 'v')).toBe(false);
      expect(topics.subscriberCount('v')).toBe(0);
      expect(topics.publish('t', 'still here')).toEqual({ sent: 1, skipped: 0, closed: 0 });
      await staying!.received(1);
      expect(staying!.texts).toEqual(['still here']);
    } finally {
      await ts.close([leaving!, staying!]);
    }
  });

  it('skips a subscriber that stops reading once maxBuffered is queued for it, while the others get every message', async () => {
    const { topics, ts, healthy, stalled, stalledConn } = await feedWithStalledSubscriber();
    try {
      const maxBuffered = 256 * 1024;
      const size = 64 * 1024;
      let skipped = 0;
      let peakBacklog = 0;
      // Bounded: 300 × 64 KiB ≈ 19 MiB, far more than loopback's socket buffers hold, so the stalled peer fills up.
      const count = 300;
      for (let i = 0; i < count; i++) {
        const message = new Uint8Array(size).fill(i % 256);
        const r = topics.publish('feed', message, { maxBuffered });
        expect(r.sent + r.skipped).toBe(2);
        skipped += r.skipped;
        peakBacklog = Math.max(peakBacklog, stalledConn.bufferedAmount);
        await healthy.received(i + 1);
      }
      expect(healthy.messages).toHaveLength(count);
      expect(healthy.messages.every((m, i) => m.data.length === size && m.data[0] === i % 256)).toBe(true);
      expect(skipped).toBeGreaterThan(0);
      expect(peakBacklog).toBeLessThanOrEqual(maxBuffered + size + 10);
    } finally {
      await ts.close([healthy, stalled]);
    }
  }, 60_000);

  it("starts closing a subscriber that cannot keep up with whenFull: 'close', with 1008", async () => {
    const { topics, ts, healthy, stalled, stalledConn } = await feedWithStalledSubscriber();
    try {
      const size = 64 * 1024;
      let i = 0;
      for (; i < 300 && stalledConn.readyState === ReadyState.Open; i++) {
        topics.publish('feed', new Uint8Array(size), { maxBuffered: 128 * 1024, whenFull: 'close' });
        await healthy.received(i + 1);
      }
      expect(stalledConn.readyState).not.toBe(ReadyState.Open);
      // The peer reads again, so the closing handshake can finish; then it is out of the topic.
      stalled.socket.resume();
      expect((await stalledConn.closed).code).toBe(1008);
      expect(topics.subscriberCount('feed')).toBe(1);
      expect(healthy.messages).toHaveLength(i);
    } finally {
      await ts.close([healthy, stalled]);
    }
  }, 60_000);

  it('refuses bad arguments with a clear error', async () => {
    const { topics, ts, clients: [client] } = await topicsWithClients(['/']);
    try {
      const conn = ts.conns[0]!;
      expect(() => topics.subscribe({} as Connection, 'x')).toThrow(new TypeError('Expected a Connection, got [object Object]'));
      expect(() => topics.subscribe(conn, '')).toThrow(new TypeError("A topic must be a non-empty string, got ''"));
      expect(() => topics.subscribe(conn, 42 as unknown as string)).toThrow(new TypeError('A topic must be a non-empty string, got [object Number]'));
      expect(() => topics.unsubscribe(conn, '')).toThrow(TypeError);
      expect(() => topics.publish('x', 42 as unknown as string)).toThrow(TypeError);
      expect(() => topics.publish('x', 'a', { maxBuffered: -1 })).toThrow(RangeError);
      expect(() => topics.publish('', 'a')).toThrow(TypeError);
    } finally {
      await ts.close([client!]);
    }
  });
});
