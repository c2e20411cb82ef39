// A connection under test, in either role, facing a raw peer that writes exact bytes (each
// chunk one read on the connection's side) and parses, with the library's own frame parser,
// every byte the connection wrote back.
import { inflateRawSync, constants as zc } from 'node:zlib';
import { FrameParser } from '../../lib/codec/frame-parser';
import type { Extension } from '../../lib/protocol/extension';
import { Connection } from '../../lib/streams/connection';
import type { ConnectionOptions } from '../../lib/streams/connection-init';
import { concat, handshakeInfo } from './connection-pair';
import { MemoryTransport } from './memory-transport';

export type Role = 'client' | 'server';

export interface RawPeer {
  /** The connection under test. */
  readonly conn: Connection;
  /** The raw peer's end: `peer.write([a, b])` arrives as two reads. */
  readonly peer: MemoryTransport;
  /** The connection's end: `transport.written` is every byte it sent. */
  readonly transport: MemoryTransport;
  /** The connection ended or dropped TCP: what the peer would see as 1006 without a close frame. */
  readonly tcp: { ended: boolean; closed: boolean };
}

/** A connection of `role` whose peer is raw bytes. */
export function rawPeer(role: Role, o: { options?: ConnectionOptions; extensions?: Extension[] } = {}): RawPeer {
  const [peer, transport] = MemoryTransport.pair();
  const conn = new Connection(transport, { role, handshake: handshakeInfo(), options: o.options, activeExtensions: o.extensions });
  const tcp = { ended: false, closed: false };
  peer.attach({ onData: () => {}, onEnd: () => { tcp.ended = true; }, onError: () => {}, onDrain: () => {}, onClose: () => { tcp.closed = true; } });
  return { conn, peer, transport, tcp };
}

/** The masking key of RFC 6455 §5.7's examples. */
const KEY = [0x37, 0xfa, 0x21, 0x3d];

/**
 * A frame as the peer of a `to` connection sends it: masked (RFC 6455 §5.3, with §5.7's key)
 * towards a server, unmasked towards a client.
 */
export function frameTo(to: Role, opcode: number, payload: Uint8Array, o: { fin?: boolean; rsv?: number } = {}): Uint8Array {
  const masked = to === 'server';
  const n = payload.length;
  const b0 = ((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode;
  const m = masked ? 0x80 : 0;
  const head = n < 126 ? [b0, m | n] : n < 65536 ? [b0, m | 126, n >> 8, n & 255] : [b0, m | 127, 0, 0, 0, 0, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255];
  const body = masked ? payload.map((b, i) => b ^ KEY[i & 3]!) : payload;
  return concat([new Uint8Array(masked ? [...head, ...KEY] : head), body]);
}

export interface WireFrame {
  readonly opcode: number;
  readonly fin: boolean;
  readonly rsv: number;
  readonly payload: Uint8Array;
}

export interface Received {
  /** Every complete frame, in wire order (control frames included). */
  readonly frames: WireFrame[];
  /** A frame was begun and its payload never completed. */
  readonly open: boolean;
  /** The bytes broke a framing rule (e.g. a close frame written inside a frame's payload). */
  readonly error: string | undefined;
}

/** Parses what the connection of `rp` sent, as its peer would. */
export function received(rp: RawPeer, allowedRsv = 0): Received {
  // The peer of a server is a client (it refuses masked frames), and the other way round.
  const parser = new FrameParser({ role: rp.conn.role === 'server' ? 'client' : 'server', allowedRsv, maxFrameSize: Infinity });
  parser.push(concat(rp.transport.written));
  const frames: WireFrame[] = [];
  let cur: { opcode: number; fin: boolean; rsv: number; parts: Uint8Array[] } | undefined;
  let error: string | undefined;
  for (let ev = parser.next(); ev; ev = parser.next()) {
    if (ev.type === 'frame-start') cur = { opcode: ev.header.opcode, fin: ev.header.fin, rsv: ev.header.rsv, parts: [] };
    else if (ev.type === 'frame-data') cur!.parts.push(ev.data.slice());
    else if (ev.type === 'frame-end') {
      frames.push({ opcode: cur!.opcode, fin: cur!.fin, rsv: cur!.rsv, payload: concat(cur!.parts) });
      cur = undefined;
    } else if (ev.type === 'control') frames.push({ opcode: ev.header.opcode, fin: ev.header.fin, rsv: ev.header.rsv, payload: ev.payload.slice() });
    else error = ev.violation.message;
  }
  return { frames, open: cur !== undefined, error };
}

/** The close code of a close frame's payload (1005 for an empty one). */
export const closeCode = (f: WireFrame): number => (f.payload.length >= 2 ? (f.payload[0]! << 8) | f.payload[1]! : 1005);

/** Waits until `cond()` holds (checked after each macrotask), failing after `ms`. */
export async function until(cond: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Writes each chunk as its own read, letting the connection act on each before the next. */
export async function feed(rp: RawPeer, chunks: Uint8Array[], pause = 2): Promise<void> {
  for (const c of chunks) {
    rp.peer.write([c]);
    await new Promise((r) => setTimeout(r, pause));
  }
}

/** RFC 7692 §7.2.2: what the receiver appends to a message's payload before inflating. */
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/**
 * What each compressed frame of one message adds to the inflated text: frames before the last
 * end on a sync flush, so the inflated prefix up to any frame is exactly its text so far.
 */
export function inflateFrames(payloads: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let before = 0;
  for (let k = 1; k <= payloads.length; k++) {
    const all = inflateRawSync(concat([...payloads.slice(0, k), TAIL]), { finishFlush: zc.Z_SYNC_FLUSH });
    out.push(new Uint8Array(all.subarray(before)));
    before = all.length;
  }
  return out;
}

/** How an echo sends a received message back: `readable.pipeTo(writable)`, or `send(msg)` in a loop. */
export type EchoMode = 'pipeTo' | 'send';

/** Starts echoing every message `conn` receives back to its peer. */
export function echo(conn: Connection, mode: EchoMode): void {
  if (mode === 'pipeTo') {
    void conn.readable.pipeTo(conn.writable).catch(() => undefined);
  } else {
    void (async () => {
      for await (const m of conn) await conn.send(m);
    })().catch(() => undefined);
  }
}
