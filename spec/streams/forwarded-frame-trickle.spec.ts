// A frame forwarded while it trickles in (a slow link, small TCP segments: one small piece per
// read). Each piece written on as it came would cost a write per read here and a read per
// piece at the peer; small pieces inside a frame are held back instead, and leave together:
// at the frame's end, once 16 KiB are held, or one tick of the connection's clock later,
// whichever is first. The frame's header and first piece, and its end, are never held.
import { HOLD_LIMIT } from '../../lib/streams/held-pieces';
import { FakeClock, settle } from '../helpers/fake-clock';
import { echo, frameTo, rawPeer, received, type EchoMode, type RawPeer, type Role } from '../helpers/raw-peer';

const BINARY = 0x2;
type Mode = EchoMode;

/** Every write the connection made, as the number of bytes each carried. */
function recordWrites(rp: RawPeer): number[] {
  const sizes: number[] = [];
  const write = rp.transport.write.bind(rp.transport);
  rp.transport.write = (chunks) => {
    sizes.push(chunks.reduce((n, c) => n + c.length, 0));
    return write(chunks);
  };
  return sizes;
}

const made: RawPeer[] = [];
afterEach(() => {
  for (const rp of made.splice(0)) rp.peer.destroy();
});

function setup(role: Role, mode: Mode): { rp: RawPeer; clock: FakeClock; writes: number[] } {
  const clock = new FakeClock();
  const rp = rawPeer(role, { options: { clock, maxMessageSize: Infinity } });
  made.push(rp);
  const writes = recordWrites(rp);
  echo(rp.conn, mode);
  return { rp, clock, writes };
}

/** A binary frame's wire bytes, as `role`'s peer sends it, cut into the header with `first` payload bytes, then `piece`-byte reads. */
function trickle(role: Role, payload: Uint8Array, first: number, piece: number): Uint8Array[] {
  const wire = frameTo(role, BINARY, payload);
  const headerEnd = wire.length - payload.length;
  const reads = [wire.subarray(0, headerEnd + first)];
  for (let at = headerEnd + first; at < wire.length; at += piece) reads.push(wire.subarray(at, Math.min(at + piece, wire.length)));
  return reads;
}

async function deliver(rp: RawPeer, reads: Uint8Array[]): Promise<void> {
  for (const r of reads) {
    rp.peer.write([r]);
    await settle();
  }
}

const payloadOf = (n: number): Uint8Array => new Uint8Array(n).map((_, i) => (i * 7 + 3) & 255);

describe.each(['server', 'client'] as Role[])('a %s connection forwarding a frame that trickles in', (role) => {
  // The header of a frame of `n` bytes from this connection (unmasked from a server, masked from a client).
  const headerOf = (n: number): number => (n < 126 ? 2 : n < 65536 ? 4 : 10) + (role === 'client' ? 4 : 0);

  it.each(['pipeTo', 'send'] as Mode[])('(%s): the header and first piece go at once, the next small pieces together one clock tick later', async (mode) => {
    const { rp, clock, writes } = setup(role, mode);
    const payload = payloadOf(1000);
    const reads = trickle(role, payload, 64, 64);
    await deliver(rp, reads.slice(0, 1));
    expect(writes).toEqual([headerOf(1000) + 64]);

    await deliver(rp, reads.slice(1, 10)); // nine pieces of 64 bytes, none the last
    expect(writes).toEqual([headerOf(1000) + 64]);
    clock.advance(0);
    await settle();
    expect(writes).toEqual([headerOf(1000) + 64, 9 * 64]);

    // The frame's last pieces: the end is never held (the rest leaves with the last piece).
    await deliver(rp, reads.slice(10));
    expect(writes).toEqual([headerOf(1000) + 64, 9 * 64, 1000 - 640]);
    const got = received(rp);
    expect(got.open).toBe(false);
    expect(got.frames).toHaveLength(1);
    expect(got.frames[0]!.payload).toEqual(payload);
  });

  it.each(['pipeTo', 'send'] as Mode[])('(%s): no more than 16 KiB is ever held, with the clock standing still', async (mode) => {
    const { rp, writes } = setup(role, mode);
    const n = 3 * HOLD_LIMIT + 100;
    const payload = payloadOf(n);
    await deliver(rp, trickle(role, payload, 64, 100));
    // Without a tick, every write but the first and the frame's end is a full hold.
    expect(writes[0]).toBe(headerOf(n) + 64);
    for (const w of writes.slice(1, -1)) expect(w).toBeGreaterThan(HOLD_LIMIT - 100);
    for (const w of writes.slice(1)) expect(w).toBeLessThanOrEqual(HOLD_LIMIT + 100);
    expect(writes.length).toBeLessThanOrEqual(2 + Math.ceil(n / (HOLD_LIMIT - 100)));
    expect(writes.reduce((a, b) => a + b, 0)).toBe(headerOf(n) + n);
    const got = received(rp);
    expect(got.frames[0]!.payload).toEqual(payload);
  });

  it('a piece of 4 KiB or more goes on at once, with what was held before it', async () => {
    const { rp, writes } = setup(role, 'pipeTo');
    const payload = payloadOf(64 + 64 + 4096 + 64);
    const wire = frameTo(role, BINARY, payload);
    const h = wire.length - payload.length;
    await deliver(rp, [wire.subarray(0, h + 64), wire.subarray(h + 64, h + 128), wire.subarray(h + 128, h + 128 + 4096)]);
    expect(writes).toEqual([headerOf(payload.length) + 64, 64 + 4096]);
    await deliver(rp, [wire.subarray(h + 128 + 4096)]);
    expect(writes).toEqual([headerOf(payload.length) + 64, 64 + 4096, 64]);
    expect(received(rp).frames[0]!.payload).toEqual(payload);
  });

  it('pieces held when the source is lost never go: the frame is abandoned and TCP ends', async () => {
    const { rp, clock, writes } = setup(role, 'pipeTo');
    const payload = payloadOf(1000);
    await deliver(rp, trickle(role, payload, 64, 64).slice(0, 5));
    expect(writes).toEqual([headerOf(1000) + 64]);
    rp.peer.destroy(); // the source connection is lost mid-frame
    await settle();
    clock.advance(0);
    await settle();
    expect(writes).toEqual([headerOf(1000) + 64]);
    expect(rp.tcp.closed || rp.transport.closed).toBe(true);
    expect(received(rp).open).toBe(true);
  });
});
