import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { MAX_PINGS_WHILE_BEHIND } from '../../lib/streams/inbound';
import { usingPonyfill } from '../../lib/streams/stream-classes';
import { concat } from '../helpers/connection-pair';
import { FakeClock } from '../helpers/fake-clock';
import type { PingFloodResult } from '../helpers/ping-flood-child';
import { rawClient, rawWebSocketServer, writeAll } from '../helpers/raw-tcp-peer';
import { describeFrames, frameFrom, framesOf, rawEndpoint, settledWithin, turns, type Role } from '../helpers/wire';

// A peer that floods pings and never reads its pongs. RFC 6455 §5.5.3 lets an endpoint answer
// only the latest of the pings it has not answered yet: the connection owes at most one pong,
// so the flood cannot grow its output; pongs wait while the transport is above its mark; and
// a peer that sends more than MAX_PINGS_WHILE_BEHIND pings while our writes to it are behind
// is failed with 1008 (policy violation).

const ROLES: readonly Role[] = ['server', 'client'];
const MiB = 1024 * 1024;
const helpers = join(__dirname, '..', 'helpers');
const CLOSE_TIMEOUT = 1000;

/** `n` pings as one chunk, as a peer of role `sender` sends them, payloads `${prefix}${i}`. */
function pings(sender: Role, n: number, prefix = 'p'): Uint8Array {
  return concat(Array.from({ length: n }, (_, i) => frameFrom(sender, 0x9, `${prefix}${i}`)));
}

/** The side under test in a process of its own (`node --expose-gc`), on the TypeScript sources. */
class FloodChild {
  readonly child: ChildProcessWithoutNullStreams;
  readonly #lines: string[] = [];
  #waiting: (() => void) | undefined;
  #buf = '';
  stderr = '';

  constructor(args: string[]) {
    const preload = ['-r', join(helpers, 'register-ts.cjs')];
    if (usingPonyfill) preload.push('-r', join(__dirname, '..', 'setup', 'force-ponyfill.ts'));
    this.child = spawn(process.execPath, ['--expose-gc', ...preload, join(helpers, 'ping-flood-child.ts'), ...args]);
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d: string) => (this.stderr += d));
    this.child.stdout.on('data', (d: string) => {
      this.#buf += d;
      for (let k = this.#buf.indexOf('\n'); k >= 0; k = this.#buf.indexOf('\n')) {
        this.#lines.push(this.#buf.slice(0, k));
        this.#buf = this.#buf.slice(k + 1);
      }
      this.#waiting?.();
    });
    this.child.on('exit', () => this.#waiting?.());
  }

  async line(): Promise<string> {
    while (this.#lines.length === 0) {
      if (this.child.exitCode !== null) throw new Error(`the child exited (${this.child.exitCode}): ${this.stderr}`);
      await new Promise<void>((resolve) => (this.#waiting = resolve));
    }
    return this.#lines.shift()!;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    await exited;
  }
}

describe(`ping floods (${usingPonyfill ? 'ponyfill' : 'native'} streams)`, () => {
  describe('1,000,000 pings in a few big chunks from a peer that never reads, over real TCP', () => {
    const COUNT = 1_000_000;
    const CHUNKS = 8;
    // A 16-byte payload: one pong owed per ping would be 18 MB of pongs the peer never takes.
    const flood = (sender: Role): Uint8Array[] => {
      const per = COUNT / CHUNKS;
      const one = frameFrom(sender, 0x9, new Uint8Array(16).fill(0x70));
      return Array.from({ length: CHUNKS }, () => {
        const chunk = new Uint8Array(per * one.length);
        for (let i = 0; i < per; i++) chunk.set(one, i * one.length);
        return chunk;
      });
    };

    /**
     * What the side under test reports. It either answered the whole flood or failed the
     * connection with 1008; either way its memory grew by less than the bound.
     */
    function expectBounded(result: PingFloodResult): void {
      expect(result.retained).toBeLessThan(16 * MiB);
      expect(result.bufferedAmount).toBeLessThan(MiB);
      if (result.closed !== undefined) expect(result.closed.code).toBe(1008);
      else expect(result.pings).toBe(COUNT);
    }

    it('server (serve): memory grows by under 16 MiB (heapUsed + arrayBuffers after gc), nothing piles up for the peer', async () => {
      const chunks = flood('client');
      const child = new FloodChild(['server', String(COUNT)]);
      let socket: Socket | undefined;
      try {
        const port = Number((await child.line()).split(' ')[1]);
        socket = (await rawClient(port)).socket; // paused: it never reads
        for (const c of chunks) await writeAll(socket, c);
        socket.end(); // and sends nothing more, still reading nothing
        const result = JSON.parse(await child.line()) as PingFloodResult;
        expectBounded(result);
      } finally {
        socket?.destroy();
        await child.stop();
      }
    });

    it('client (connect): memory grows by under 16 MiB (heapUsed + arrayBuffers after gc), nothing piles up for the peer', async () => {
      const chunks = flood('server');
      const raw = await rawWebSocketServer();
      const child = new FloodChild(['client', String(COUNT), String(raw.port)]);
      let socket: Socket | undefined;
      try {
        socket = await raw.nextSocket(); // paused: it never reads
        for (const c of chunks) await writeAll(socket, c);
        socket.end();
        const result = JSON.parse(await child.line()) as PingFloodResult;
        expectBounded(result);
      } finally {
        socket?.destroy();
        await child.stop();
        await raw.close();
      }
    });
  });

  describe('a peer that reads its pongs is not failed with 1008', () => {
    // Pings count towards the bound only "while our writes to the peer are behind". Known to
    // fail: the count treats any byte queued in the transport at the moment a ping is parsed
    // as being behind, and is reset only when a chunk arrives while nothing is queued.

    it('server over real TCP: 1,000,000 pings in big chunks from a peer that reads everything are all answered (the transport corks its writes within a turn)', async () => {
      const COUNT = 1_000_000;
      const one = frameFrom('client', 0x9, new Uint8Array(16).fill(0x70));
      const chunk = new Uint8Array((COUNT / 8) * one.length);
      for (let i = 0; i < COUNT / 8; i++) chunk.set(one, i * one.length);
      const child = new FloodChild(['server', String(COUNT)]);
      let socket: Socket | undefined;
      try {
        const port = Number((await child.line()).split(' ')[1]);
        socket = (await rawClient(port)).socket;
        let pongBytes = 0;
        socket.on('data', (d: Buffer) => (pongBytes += d.length)); // it reads everything
        socket.resume();
        for (let i = 0; i < 8; i++) await writeAll(socket, chunk);
        socket.end();
        const result = JSON.parse(await child.line()) as PingFloodResult;
        expect(result.closed).toBeUndefined();
        expect(result.pings).toBe(COUNT);
        expect(pongBytes).toBeGreaterThan(0);
      } finally {
        socket?.destroy();
        await child.stop();
      }
    });

    it.each(ROLES)('%s: pings spread over time while we keep sending, each pong read by the peer before the next ping', async (role) => {
      const { conn, peer, transport, peerRole } = rawEndpoint(role, { clock: new FakeClock() });
      const rounds = MAX_PINGS_WHILE_BEHIND + 100;
      for (let i = 0; i < rounds && conn.readyState === 1; i++) {
        // A ping arrives while a message we just sent is still on its way (a server streaming
        // to this peer); the peer then reads everything, its pong included.
        peer.write([frameFrom(peerRole, 0x9, `h${i}`)]);
        void conn.send(`update ${i}`);
        await turns(1);
        expect(transport.bufferedAmount).toBe(0);
      }
      const frames = describeFrames(transport.written);
      expect(frames.filter((f) => f.startsWith('close'))).toEqual([]);
      expect(frames.filter((f) => f.startsWith('pong:')).length).toBe(rounds);
      expect(conn.readyState).toBe(1);
    });
  });

  describe.each(ROLES)('%s: pongs are coalesced', (role) => {
    it('N pings in one chunk get exactly one pong, carrying the last ping\'s payload; onPing sees all N', async () => {
      const { conn, peer, transport, peerRole } = rawEndpoint(role, { clock: new FakeClock() });
      const seen: string[] = [];
      conn.onPing = (d) => seen.push(new TextDecoder().decode(d));
      peer.write([pings(peerRole, 500)]);
      await turns();
      expect(seen.length).toBe(500);
      expect(seen.at(-1)).toBe('p499');
      expect(describeFrames(transport.written)).toEqual(['pong:p499']);
      // The next chunk is answered on its own, again once.
      peer.write([pings(peerRole, 3, 'q')]);
      await turns();
      expect(describeFrames(transport.written)).toEqual(['pong:p499', 'pong:q2']);
    });

    it('pings between the fragments of an unread message are answered once too', async () => {
      const { conn, peer, transport, peerRole } = rawEndpoint(role, { clock: new FakeClock() });
      peer.write([concat([frameFrom(peerRole, 1, 'a', { fin: false }), pings(peerRole, 10), frameFrom(peerRole, 0, 'b')])]);
      await turns();
      expect(describeFrames(transport.written)).toEqual(['pong:p9']);
      expect(await (await conn.nextMessage())!.text()).toBe('ab');
    });
  });

  describe.each(ROLES)('%s: pongs while the transport is above its mark', (role) => {
    it('wait for the drain, then go as one pong for the latest ping', async () => {
      const { conn, peer, transport, peerRole } = rawEndpoint(role, { clock: new FakeClock() });
      peer.pause();
      let sent = false;
      const sending = conn.send(new Uint8Array(100 * 1024)).then(() => (sent = true));
      await turns();
      expect(sent).toBe(false); // above the transport's mark (64 KiB): waiting for the drain
      const before = transport.written.length;
      for (let i = 0; i < 3; i++) {
        peer.write([pings(peerRole, 10, `c${i}-`)]);
        await turns();
      }
      expect(transport.written.length).toBe(before);
      peer.resume();
      await sending;
      await turns();
      expect(framesOf(transport.written).map((f) => [f.opcode, f.opcode === 2 ? f.payload.length : f.text])).toEqual([[2, 100 * 1024], [0xa, 'c2-9']]);
    });
  });

  describe.each(ROLES)('%s: the bound on pings while our writes to the peer are behind', (role) => {
    /** A connection whose peer never reads: what it writes stays queued, above the transport's mark (64 KiB). */
    async function behind(): Promise<ReturnType<typeof rawEndpoint> & { clock: FakeClock }> {
      const clock = new FakeClock();
      const ends = rawEndpoint(role, { clock, closeTimeout: CLOSE_TIMEOUT });
      ends.peer.pause();
      void ends.conn.send(new Uint8Array(100 * 1024)).catch(() => undefined);
      await turns();
      expect(ends.transport.bufferedAmount).toBeGreaterThan(64 * 1024);
      return { ...ends, clock };
    }

    it(`is ${MAX_PINGS_WHILE_BEHIND}`, () => {
      expect(MAX_PINGS_WHILE_BEHIND).toBe(1024);
    });

    it(`more than ${MAX_PINGS_WHILE_BEHIND} pings: fails with 1008, the close frame is queued and closed reports 1008`, async () => {
      const { conn, peer, transport, peerRole, clock } = await behind();
      peer.write([pings(peerRole, MAX_PINGS_WHILE_BEHIND + 1)]);
      await turns();
      const frames = describeFrames(transport.written);
      expect(frames.at(-1)).toBe('close:1008');
      expect(conn.readyState).not.toBe(1);
      clock.advance(CLOSE_TIMEOUT);
      expect(await settledWithin(conn.closed)).toMatchObject({ wasClean: false, code: 1008 });
    });

    it(`${MAX_PINGS_WHILE_BEHIND} pings, then one more in a later chunk: the count goes on across chunks (1008)`, async () => {
      const { conn, peer, transport, peerRole, clock } = await behind();
      peer.write([pings(peerRole, MAX_PINGS_WHILE_BEHIND)]);
      await turns();
      expect(conn.readyState).toBe(1);
      peer.write([frameFrom(peerRole, 0x9, 'one more')]);
      await turns();
      expect(describeFrames(transport.written).at(-1)).toBe('close:1008');
      clock.advance(CLOSE_TIMEOUT);
      expect(await settledWithin(conn.closed)).toMatchObject({ wasClean: false, code: 1008 });
    });

    it(`${MAX_PINGS_WHILE_BEHIND} pings or fewer: no failure, and the peer gets the latest pong once it reads`, async () => {
      const { conn, peer, transport, peerRole, clock } = await behind();
      peer.write([pings(peerRole, MAX_PINGS_WHILE_BEHIND - 24)]);
      peer.write([pings(peerRole, 24, 'r')]);
      await turns();
      expect(conn.readyState).toBe(1);
      expect(describeFrames(transport.written).filter((f) => f.startsWith('close'))).toEqual([]);
      // The peer reads again: it gets our message and then one pong, for the latest ping (the
      // pongs waited for the drain, coalesced), not one per ping.
      peer.resume();
      await turns();
      const frames = describeFrames(transport.written);
      expect(frames[0]!.startsWith('binary:')).toBe(true);
      expect(frames.slice(1)).toEqual(['pong:r23']);
      // Still open and answering.
      peer.write([frameFrom(peerRole, 0x9, 'after')]);
      await turns();
      expect(describeFrames(transport.written).at(-1)).toBe('pong:after');
      expect(clock.now()).toBe(0);
    });

    it('pings while our writes are not behind are not counted', async () => {
      const { conn, peer, transport, peerRole } = rawEndpoint(role, { clock: new FakeClock() });
      for (let i = 0; i < 3; i++) {
        peer.write([pings(peerRole, MAX_PINGS_WHILE_BEHIND, `${i}-`)]);
        await turns();
      }
      expect(conn.readyState).toBe(1);
      expect(transport.bufferedAmount).toBe(0);
      expect(describeFrames(transport.written)).toEqual(['pong:0-1023', 'pong:1-1023', 'pong:2-1023']);
    });
  });
});
