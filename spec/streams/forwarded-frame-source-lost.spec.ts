// A forwarded message whose source fails mid-message (its connection is lost). RFC 6455 §5.2:
// a frame's header promises its payload length; §5.4: a control frame may go between the
// frames of a message, never inside one. So a binary frame forwarded with its length and left
// open can only be ended by ending TCP (the peer sees 1006), never by a close frame written
// into it; a text message, forwarded in whole frames, ends with a close frame between frames.
import type { Connection } from '../../lib/streams/connection';
import { concat, hex, toHex } from '../helpers/connection-pair';
import { closeCode, frameTo, rawPeer, received, until, type RawPeer, type Role } from '../helpers/raw-peer';

const TEXT = 0x1;
const BINARY = 0x2;
const CLOSE = 0x8;

type Mode = 'pipeTo' | 'send' | 'send as binary';

/** Forwards every message `from` receives through `to`. */
function forward(from: Connection, to: Connection, mode: Mode): void {
  if (mode === 'pipeTo') {
    void from.readable.pipeTo(to.writable).catch(() => undefined);
  } else {
    void (async () => {
      for await (const m of from) await to.send(m, mode === 'send as binary' ? { binary: true } : {});
    })().catch(() => undefined);
  }
}

const made: RawPeer[] = [];
function peerOf(role: Role): RawPeer {
  const rp = rawPeer(role);
  made.push(rp);
  return rp;
}
afterEach(() => {
  for (const rp of made.splice(0)) rp.peer.destroy();
});

/** The start of a 20-byte frame and its first `n` payload bytes, as `to`'s peer sends them. */
function partialFrame(to: Role, opcode: number, payload: Uint8Array, n: number): Uint8Array {
  const wire = frameTo(to, opcode, payload);
  return wire.subarray(0, wire.length - payload.length + n);
}

const PAYLOAD = new Uint8Array(20).map((_, i) => 0xa0 + i);

describe.each(['server', 'client'] as Role[])('a %s connection forwarding a frame whose source is lost mid-frame', (role) => {
  it.each(['pipeTo', 'send'] as Mode[])('echo (%s): the open binary frame is not completed with a close frame; TCP ends', async (mode) => {
    const rp = peerOf(role);
    forward(rp.conn, rp.conn, mode);
    rp.peer.write([partialFrame(role, BINARY, PAYLOAD, 8)]);
    await until(() => received(rp).open, 2000, 'the frame forwarded open');
    rp.peer.end(); // the source's input ends mid-frame
    await until(() => rp.tcp.ended || rp.tcp.closed, 2000, 'TCP to end');
    const rx = received(rp);
    // Everything sent parses: the frame's 8 bytes and nothing after them, no close frame inside.
    expect(rx.error).toBeUndefined();
    expect(rx.frames).toEqual([]);
    expect(rx.open).toBe(true);
    const header = role === 'server' ? 2 : 6;
    expect(concat(rp.transport.written).length).toBe(header + 8);
    expect(await rp.conn.closed).toMatchObject({ wasClean: false });
  });

  it.each(['pipeTo', 'send', 'send as binary'] as Mode[])('proxy (%s): the target ends TCP on the open binary frame, no close frame inside it', async (mode) => {
    const source = peerOf('server');
    const target = peerOf(role);
    forward(source.conn, target.conn, mode);
    // 'send as binary' forwards a text message through a writer's beginFrame(): the same rule.
    const opcode = mode === 'send as binary' ? TEXT : BINARY;
    const payload = mode === 'send as binary' ? new TextEncoder().encode('twenty bytes of text') : PAYLOAD;
    source.peer.write([partialFrame('server', opcode, payload, 8)]);
    await until(() => received(target).open, 2000, 'the frame forwarded open');
    source.peer.end();
    await until(() => target.tcp.ended || target.tcp.closed, 2000, 'TCP to end');
    const rx = received(target);
    expect(rx.error).toBeUndefined();
    expect(rx.frames).toEqual([]);
    expect(rx.open).toBe(true);
    const header = role === 'server' ? 2 : 6;
    expect(concat(target.transport.written).length).toBe(header + 8);
    // The target failed: not a clean close, and no data can be sent any more.
    await expect(target.conn.send(new Uint8Array(1))).rejects.toThrow(/closed|close frame/);
    target.peer.end(); // the peer's TCP answers the end
    expect(await target.conn.closed).toMatchObject({ wasClean: false });
  });

  it.each(['pipeTo', 'send'] as Mode[])('proxy (%s): a frame lost after its header, before any payload, was never begun on the wire: a clean close 1011', async (mode) => {
    const source = peerOf('server');
    const target = peerOf(role);
    forward(source.conn, target.conn, mode);
    source.peer.write([partialFrame('server', BINARY, PAYLOAD, 0)]);
    await new Promise((r) => setTimeout(r, 5));
    expect(target.transport.written).toEqual([]); // a header goes with the frame's first piece
    source.peer.end();
    await until(() => received(target).frames.some((f) => f.opcode === CLOSE), 2000, 'the close frame');
    const rx = received(target);
    expect(rx.error).toBeUndefined();
    expect(rx.open).toBe(false);
    expect(rx.frames.map((f) => [f.opcode, closeCode(f)])).toEqual([[CLOSE, 1011]]);
  });

  it.each(['pipeTo', 'send'] as Mode[])('proxy (%s): a text message cut by the loss ends with a close 1011 between frames', async (mode) => {
    const source = peerOf('server');
    const target = peerOf(role);
    forward(source.conn, target.conn, mode);
    // κόσμε and the first byte of "ό" again: the incomplete sequence is held back, never sent.
    const text = hex('cebae1bdb9cf83cebcceb5e1bdb9cf83cebcceb5');
    source.peer.write([partialFrame('server', TEXT, text, 12)]);
    await until(() => received(target).frames.length > 0, 2000, 'the first piece');
    source.peer.end();
    await until(() => received(target).frames.some((f) => f.opcode === CLOSE), 2000, 'the close frame');
    const rx = received(target);
    expect(rx.error).toBeUndefined();
    expect(rx.open).toBe(false);
    expect(rx.frames.map((f) => [f.opcode, f.fin, f.opcode === CLOSE ? closeCode(f) : toHex(f.payload)])).toEqual([
      [TEXT, false, 'cebae1bdb9cf83cebcceb5'],
      [CLOSE, true, 1011],
    ]);
  });
});
